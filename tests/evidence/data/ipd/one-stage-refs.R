# References for tests/evidence/test_one_stage*.py, from the SYNTHETIC fixture folders.
# Usage (repository root): Rscript tests/evidence/data/ipd/one-stage-refs.R \
#   tests/evidence/data/ipd tests/evidence/data/ipd/one-stage-refs.json
# R survival 3.5-3, metafor 3.8-1, jsonlite. The tests never call R.
suppressPackageStartupMessages({library(survival); library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
root <- args[1]; out <- args[2]

read_folder <- function(dir) {
  prov <- read.csv(file.path(dir, "provenance.csv"), stringsAsFactors = FALSE)
  do.call(rbind, lapply(prov$series, function(s) {
    d <- read.csv(file.path(dir, paste0(s, ".csv")), stringsAsFactors = FALSE)
    d$series <- s
    d
  }))
}

km_ref <- function(d) {
  fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = "log-log")
  tab <- summary(fit)$table
  at <- summary(fit, times = c(12, 36, 60), extend = TRUE)
  risk <- summary(fit, times = c(0, 12, 24, 36, 48, 60), extend = TRUE)
  list(n = nrow(d), events = sum(d$event),
       median = unname(tab["median"]), median_lower = unname(tab["0.95LCL"]),
       median_upper = unname(tab["0.95UCL"]),
       survival = at$surv, lower = at$lower, upper = at$upper, n_risk = at$n.risk,
       at_risk = risk$n.risk, last_time = max(d$time))
}

rmst_ref <- function(d, tau) {
  fit <- survfit(Surv(time, event) ~ 1, data = d)
  tab <- summary(fit, rmean = tau)$table
  c(estimate = unname(tab["rmean"]), se = unname(tab["se(rmean)"]))
}

one <- read_folder(file.path(root, "synthetic"))
ids <- unique(one$series)
per <- lapply(ids, function(s) km_ref(one[one$series == s, ]))
names(per) <- ids
tau <- min(60, sapply(per, function(p) p$last_time))
rm <- t(sapply(ids, function(s) rmst_ref(one[one$series == s, ], tau)))
pool <- rma(yi = rm[, "estimate"], sei = rm[, "se"], method = "REML",
            control = list(threshold = 1e-12, maxiter = 1000))
pred <- predict(pool)
between <- survdiff(Surv(time, event) ~ factor(series, levels = ids), data = one)

arms <- read_folder(file.path(root, "synthetic-arms"))
cox <- coxph(Surv(time, event) ~ arm + strata(series), data = arms, ties = "efron")
cs <- summary(cox)
strat <- survdiff(Surv(time, event) ~ arm + strata(series), data = arms)

ref <- list(
  made_with = paste("R", getRversion(), "survival", packageVersion("survival"),
                    "metafor", packageVersion("metafor")),
  synthetic = list(
    series = per,
    pooled = km_ref(one),
    horizon = tau,
    rmst = list(ids = ids, estimate = unname(rm[, "estimate"]), se = unname(rm[, "se"])),
    rmst_pooled = list(estimate = as.numeric(pool$b), se = pool$se, ci_lb = pool$ci.lb,
                       ci_ub = pool$ci.ub, tau2 = pool$tau2, i2 = pool$I2,
                       pi_lb = pred$pi.lb, pi_ub = pred$pi.ub),
    pooled_rmst = unname(rmst_ref(one, tau)["estimate"]),
    between = list(chisq = between$chisq, df = length(ids) - 1,
                   observed = as.numeric(between$obs), expected = as.numeric(between$exp))
  ),
  arms = list(
    coef = unname(coef(cox)), se = unname(sqrt(diag(vcov(cox)))),
    hr_lower = unname(cs$conf.int[, "lower .95"]), hr_upper = unname(cs$conf.int[, "upper .95"]),
    loglik = cox$loglik, logrank_chisq = strat$chisq,
    logrank_observed = as.numeric(rowSums(strat$obs)),
    logrank_expected = as.numeric(rowSums(strat$exp))
  )
)
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
