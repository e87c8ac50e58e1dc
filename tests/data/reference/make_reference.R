# Regenerate the reference datasets and fits in this folder (run from this folder):
#   Rscript make_reference.R
# Writes sleepstudy.csv, penicillin.csv, wine.csv (public datasets shipped with lme4 and
# ordinal) and reference.json (the fits quoted in REFERENCE.md, with R and package versions).
suppressPackageStartupMessages({library(lme4); library(ordinal); library(jsonlite)})

write.csv(sleepstudy, "sleepstudy.csv", row.names = FALSE)
write.csv(Penicillin, "penicillin.csv", row.names = FALSE)
write.csv(wine, "wine.csv", row.names = FALSE)

vc <- function(fit) as.data.frame(VarCorr(fit))
lmm <- function(fit) list(
  fixed = as.list(fixef(fit)), se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
  varcorr = vc(fit), logLik = as.numeric(logLik(fit)),
  REMLcrit = if (isREML(fit)) REMLcrit(fit) else NULL)
ord <- function(fit) list(
  thresholds = as.list(fit$alpha), beta = as.list(fit$beta),
  se = as.list(sqrt(diag(vcov(fit)))[c(names(fit$alpha), names(fit$beta))]),
  variance = lapply(VarCorr(fit), function(m) m[1, 1]), logLik = as.numeric(logLik(fit)))

wine <- read.csv("wine.csv", colClasses = c(rating = "factor", bottle = "factor",
                                            judge = "factor"))
wine$rating <- factor(wine$rating, ordered = TRUE)
out <- list(
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  ordinal = as.character(packageVersion("ordinal"))),
  sleepstudy_reml = lmm(lmer(Reaction ~ Days + (Days | Subject), sleepstudy)),
  sleepstudy_ml = lmm(lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE)),
  penicillin_reml = lmm(lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin)),
  wine_judge = ord(clmm(rating ~ temp + contact + (1 | judge), data = wine)),
  wine_crossed = ord(clmm(rating ~ temp + contact + (1 | judge) + (1 | bottle), data = wine)))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "reference.json")
