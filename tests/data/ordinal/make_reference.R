# Reference fits of ordinal::clmm for tests/test_models_clmm_slopes.py (run from this folder):
#   Rscript make_reference.R
# Writes slopes.csv (a simulated data set the project's code never generated: 70 participants,
# 6 ratings each, correlated random intercepts and slopes) and clmm_reference.json (fits with
# R and package versions). wine.csv is read from ../reference.
suppressPackageStartupMessages({library(ordinal); library(jsonlite)})

set.seed(20261201)
n <- 70; k <- 6
participant <- sprintf("p%02d", rep(seq_len(n), each = k))
x <- round(rnorm(n * k, 0, 1), 4)
cond <- rep(c("a", "b"), length.out = n * k)
L <- matrix(c(1.0, 0, 0.35, 0.45), 2, 2, byrow = TRUE)  # Sigma = L L'
b <- matrix(rnorm(2 * n), n, 2) %*% t(L)
g <- rep(seq_len(n), each = k)
eta <- 0.9 * x - 0.6 * (cond == "b") + b[g, 1] + b[g, 2] * x
rating <- cut(eta + rlogis(n * k), c(-Inf, -1.5, -0.3, 0.8, 2, Inf), labels = FALSE)
slopes <- data.frame(participant, x, cond, rating)
write.csv(slopes, "slopes.csv", row.names = FALSE)

summarise <- function(fit, seconds) {
  vc <- VarCorr(fit)
  list(
    thresholds = as.list(fit$alpha), beta = as.list(fit$beta),
    se = as.list(sqrt(diag(vcov(fit)))[c(names(fit$alpha), names(fit$beta))]),
    covariance = lapply(vc, function(m) {
      m <- unclass(m); attr(m, "stddev") <- NULL; attr(m, "correlation") <- NULL
      list(terms = rownames(m), matrix = unname(m))}),
    sd = lapply(vc, function(m) as.list(attr(m, "stddev"))),
    logLik = as.numeric(logLik(fit)), nAGQ = fit$nAGQ, link = fit$link,
    max_grad = max(abs(fit$gradient)), seconds = seconds)
}

wine <- read.csv("../reference/wine.csv", colClasses = c(rating = "factor", bottle = "factor",
                                                         judge = "factor"))
wine$rating <- factor(wine$rating, ordered = TRUE)
wine$c <- as.numeric(wine$contact == "yes")
slopes$rating <- factor(slopes$rating, ordered = TRUE)
case <- function(data, formula, link = "logit", nAGQ = 1)
  list(data = data, formula = formula, link = link, nAGQ = nAGQ)
slope_model <- "rating ~ x + cond + (1 + x | participant)"
intercept_model <- "rating ~ x + cond + (1 | participant)"
wine_model <- "rating ~ temp + contact + (1 | judge)"
cases <- list(
  slopes_logit = case("slopes", slope_model),
  slopes_probit = case("slopes", slope_model, link = "probit"),
  slopes_factor = case("slopes", "rating ~ x + cond + (1 + cond | participant)"),
  slope_only = case("slopes", "rating ~ x + cond + (0 + x | participant)"),
  slopes_three = case("slopes", "rating ~ x + cond + (1 + x + cond | participant)"),
  wine_slope_boundary = case("wine", "rating ~ temp + contact + (1 + c | judge)"),
  slopes_agq7 = case("slopes", intercept_model, nAGQ = 7),
  slopes_ghq7 = case("slopes", intercept_model, nAGQ = -7),
  wine_ghq10 = case("wine", wine_model, nAGQ = -10),
  wine_probit_agq5 = case("wine", wine_model, link = "probit", nAGQ = 5))
fits <- lapply(cases, function(case) {
  data <- if (case$data == "wine") wine else slopes
  seconds <- system.time(fit <- clmm(as.formula(case$formula), data = data, link = case$link,
                                     nAGQ = case$nAGQ))[["elapsed"]]
  c(case, summarise(fit, seconds))
})
errors <- list(
  nagq_with_slopes = tryCatch({
    clmm(rating ~ x + (1 + x | participant), data = slopes, nAGQ = 5); NA},
    error = conditionMessage),
  nagq_zero_is_laplace = isTRUE(all.equal(
    logLik(clmm(rating ~ x + (1 | participant), data = slopes, nAGQ = 0)),
    logLik(clmm(rating ~ x + (1 | participant), data = slopes, nAGQ = 1)))))
out <- list(versions = list(R = R.version.string,
                            ordinal = as.character(packageVersion("ordinal")),
                            ucminf = as.character(packageVersion("ucminf")),
                            jsonlite = as.character(packageVersion("jsonlite"))),
            fits = fits, errors = errors)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "clmm_reference.json")
