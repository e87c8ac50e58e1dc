# Reference fits for tests/test_models_lmm.py: lme4 + lmerTest on simulated data.
#
# Run from the repository root:  Rscript tests/data/lme4/make_reference.R
# Writes tests/data/lme4/<case>.csv (the data) and tests/data/lme4/reference.json (the fits,
# with R and package versions). The test suite reads these files and never needs R.
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
})
out <- "tests/data/lme4"

design <- function(n_part, per, seed) {
  set.seed(seed)
  d <- data.frame(participant = sprintf("p%03d", rep(seq_len(n_part), each = per)))
  d$x <- round(rnorm(nrow(d)), 4)
  d
}
noise <- function(n, sd) rnorm(n, sd = sd)
cases <- list()

# 1. random intercept, a continuous and a 3-level factor covariate
d <- design(40, 6, 101)
d$f <- rep(c("a", "b", "c"), length.out = nrow(d))
u <- rnorm(40, sd = 0.8)[as.integer(factor(d$participant))]
d$y <- round(1 + 0.4 * d$x + c(a = 0, b = 0.3, c = -0.2)[d$f] + u + noise(nrow(d), 1), 4)
cases$intercept <- list(data = d, formula = "y ~ x + f + (1 | participant)",
                        nested = "y ~ x + (1 | participant)")

# 1b. correlated random slopes of a factor (3 x 3 covariance), same data
cases$factor_slopes <- list(data = d, formula = "y ~ x + (1 + f | participant)",
                            nested = "y ~ x + (1 | participant)")

# 1c. interactions: type III F tests of terms contained in them (lmerTest's contrasts)
d$h <- rep(c("u", "v"), each = 3, length.out = nrow(d))
d$y2 <- round(d$y + 0.3 * (d$h == "v") + 0.4 * (d$h == "v") * (d$f == "b"), 4)
cases$interaction <- list(data = d, formula = "y ~ x * f + (1 | participant)")
cases$two_factors <- list(data = d, formula = "y2 ~ f * h + x + (1 | participant)")

# 2. crossed participant x source
set.seed(202)
d <- expand.grid(rep = 1:2, source = c("s1", "s2", "s3", "s4"), participant = sprintf("p%03d", 1:50),
                 stringsAsFactors = FALSE)[, c("participant", "source", "rep")]
d$x <- round(rnorm(nrow(d)), 4)
u <- rnorm(50, sd = 0.7)[as.integer(factor(d$participant))]
v <- rnorm(4, sd = 0.5)[as.integer(factor(d$source))]
d$y <- round(2 + 0.3 * d$x + u + v + noise(nrow(d), 0.9), 4)
cases$crossed <- list(data = d, formula = "y ~ x + (1 | participant) + (1 | source)",
                      nested = "y ~ x + (1 | participant)")

# 3. correlated random slopes
d <- design(30, 8, 303)
g <- as.integer(factor(d$participant))
u0 <- rnorm(30, sd = 0.9); u1 <- 0.4 * u0 + rnorm(30, sd = 0.4)
d$y <- round(1 + 0.5 * d$x + u0[g] + u1[g] * d$x + noise(nrow(d), 0.8), 4)
cases$slopes <- list(data = d, formula = "y ~ x + (1 + x | participant)",
                     nested = "y ~ x + (1 | participant)")

# 4. uncorrelated random slopes (same generator, other seed)
d <- design(30, 8, 404)
g <- as.integer(factor(d$participant))
d$y <- round(1 + 0.5 * d$x + rnorm(30, sd = 0.9)[g] + rnorm(30, sd = 0.5)[g] * d$x +
             noise(nrow(d), 0.8), 4)
cases$uncorrelated <- list(data = d, formula = "y ~ x + (1 + x || participant)",
                           nested = "y ~ x + (1 | participant)")

# 5. near-singular random intercept (small between-participant variance: theta 0.18 REML,
# 0.12 ML) and a singular one (theta 0 at the boundary)
d <- design(20, 3, 522)
d$y <- round(0.5 * d$x + rnorm(20, sd = 0.35)[as.integer(factor(d$participant))] +
             noise(nrow(d), 1), 4)
cases$near_singular <- list(data = d, formula = "y ~ x + (1 | participant)")
d <- design(20, 3, 505)
d$y <- round(0.5 * d$x + rnorm(20, sd = 0.15)[as.integer(factor(d$participant))] +
             noise(nrow(d), 1), 4)
cases$singular <- list(data = d, formula = "y ~ x + (1 | participant)")

# 6. nine clusters with a between-participant covariate (Satterthwaite df about 7)
d <- design(9, 6, 606)
g <- as.integer(factor(d$participant))
d$w <- round(rnorm(9), 4)[g]
d$y <- round(0.3 * d$x + 0.4 * d$w + rnorm(9, sd = 0.7)[g] + noise(nrow(d), 0.6), 4)
cases$nine_clusters <- list(data = d, formula = "y ~ x + w + (1 | participant)")

# 7. random slopes with a crossed factor
set.seed(707)
d <- expand.grid(rep = 1:2, source = c("s1", "s2", "s3"), participant = sprintf("p%03d", 1:40),
                 stringsAsFactors = FALSE)[, c("participant", "source", "rep")]
d$x <- round(rnorm(nrow(d)), 4)
g <- as.integer(factor(d$participant))
u0 <- rnorm(40, sd = 0.8); u1 <- -0.3 * u0 + rnorm(40, sd = 0.4)
d$y <- round(1 + 0.6 * d$x + u0[g] + u1[g] * d$x + rnorm(3, sd = 0.6)[as.integer(factor(d$source))] +
             noise(nrow(d), 0.7), 4)
cases$slopes_crossed <- list(data = d, formula = "y ~ x + (1 + x | participant) + (1 | source)",
                             nested = "y ~ x + (1 | participant) + (1 | source)")

# 8. nested grouping: classes within schools
set.seed(808)
d <- expand.grid(pupil = 1:5, class = c("k1", "k2", "k3"), school = sprintf("h%02d", 1:12),
                 stringsAsFactors = FALSE)[, c("school", "class", "pupil")]
d$x <- round(rnorm(nrow(d)), 4)
sc <- rnorm(12, sd = 0.6)[as.integer(factor(d$school))]
cl <- rnorm(36, sd = 0.4)[as.integer(factor(paste(d$school, d$class)))]
d$y <- round(0.2 * d$x + sc + cl + noise(nrow(d), 0.7), 4)
cases$nested <- list(data = d, formula = "y ~ x + (1 | school/class)")

fit_summary <- function(m) {
  s <- summary(m)
  co <- as.data.frame(coef(s))
  vc <- as.data.frame(VarCorr(m))
  a3 <- as.data.frame(anova(m, type = "III"))
  list(
    fixed = list(term = rownames(co), estimate = co$Estimate, se = co[["Std. Error"]],
                 df = co$df, t = co[["t value"]], p = co[["Pr(>|t|)"]]),
    random = list(grp = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov, sdcor = vc$sdcor),
    sigma = sigma(m), loglik = as.numeric(logLik(m)), aic = AIC(m),
    reml_criterion = if (isREML(m)) unname(REMLcrit(m)) else NA,
    deviance = if (isREML(m)) NA else deviance(m),
    theta = unname(getME(m, "theta")), singular = isSingular(m),
    anova = list(term = rownames(a3), num_df = a3$NumDF, den_df = a3$DenDF,
                 F = a3[["F value"]], p = a3[["Pr(>F)"]]),
    nobs = nobs(m), ngroups = as.list(ngrps(m))
  )
}

ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 1e-3, rhoend = 1e-10, maxfun = 1e5),
                    check.conv.singular = "ignore")
ref <- list()
for (name in names(cases)) {
  case <- cases[[name]]
  write.csv(case$data, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  reml <- lmer(as.formula(case$formula), case$data, REML = TRUE, control = ctrl)
  ml <- lmer(as.formula(case$formula), case$data, REML = FALSE, control = ctrl)
  entry <- list(formula = case$formula, reml = fit_summary(reml), ml = fit_summary(ml))
  if (!is.null(case$nested)) {
    small <- lmer(as.formula(case$nested), case$data, REML = TRUE, control = ctrl)
    lrt <- as.data.frame(anova(small, reml))  # refits both under ML
    entry$lrt <- list(formula = case$nested, npar = lrt$npar, aic = lrt$AIC, bic = lrt$BIC,
                      loglik = lrt$logLik, deviance = lrt$deviance, chisq = lrt$Chisq,
                      df = lrt$Df, p = lrt[["Pr(>Chisq)"]])
  }
  ref[[name]] <- entry
}
ref$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     lmerTest = as.character(packageVersion("lmerTest")),
                     Matrix = as.character(packageVersion("Matrix")),
                     optimizer = "bobyqa, rhoend 1e-10 (tight, so that the reference is the optimum)")
write_json(ref, file.path(out, "reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")
