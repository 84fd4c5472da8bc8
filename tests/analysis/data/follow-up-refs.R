# Reference numbers for tests/analysis/test_follow_up.py: Kaplan-Meier values at times after
# the last follow-up (summary(fit, times=), extend=FALSE, R's default, leaves them out) and the
# restricted mean to a horizon after the last follow-up (print.survfit(rmean=) reports it,
# extending the curve flat). Run: Rscript tests/analysis/data/follow-up-refs.R
library(survival)
library(jsonlite)
out <- list(survival_version = as.character(packageVersion("survival")))
cases <- list(
  four = list(time = c(3, 5, 8, 10), event = c(1, 0, 1, 0), times = c(0, 5, 12, 600),
              rmean = 200),
  one = list(time = 5, event = 0, times = c(0, 12, 36, 60), rmean = 60)
)
for (name in names(cases)) {
  x <- cases[[name]]
  fit <- survfit(Surv(x$time, x$event) ~ 1, conf.type = "log-log")
  s <- summary(fit, times = x$times)  # extend = FALSE: no row after the last time
  tab <- summary(fit, rmean = x$rmean)$table
  out[[name]] <- list(
    time = x$time, event = x$event, times = x$times, rmean = x$rmean,
    reported_times = s$time, survival = s$surv,
    rmst = unname(tab["rmean"]), rmst_se = unname(tab["se(rmean)"])
  )
}
writeLines(toJSON(out, auto_unbox = FALSE, digits = NA, pretty = TRUE),
           "tests/analysis/data/follow-up-refs.json")
