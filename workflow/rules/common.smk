"""Helpers shared by the rule files: wave look-up and paths."""


WAVES = [wave["label"] for wave in config["waves"]]


def wave_cfg(label):
    """The config entry of wave ``label``, with the default instrument filled in."""
    for wave in config["waves"]:
        if wave["label"] == label:
            return {"instrument": config["instrument"], **wave}
    raise ValueError(f"unknown wave {label!r}; config lists {WAVES}")


wildcard_constraints:
    wave="|".join(WAVES),
