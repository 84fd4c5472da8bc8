# Reference values for livermet.report.glmm_plots.glmm_forest_plot (the GLMM forest plot).
# Run from this directory:  Rscript glmm-forest-refs.R   (writes glmm-forest-refs.json; the tests
# never call R). R 4.2.2, metafor 3.8-1, jsonlite.
#
# For each case, every series' exact (Clopper & Pearson 1934) 95 % CI from stats::binom.test
# (x, n)$conf.int, its observed proportion x / n, and the pooled proportion of
# metafor::rma.glmm(measure = "PLO", xi = x, ni = n) (method "ML", nAGQ = 7, metafor's default
# control) with its CI and prediction interval from predict(fit, transf = transf.ilogit).
#   table1_os5  Table 1's 5-year survival: survivors = round(S n) of the case report's series
#               (n_table; the survivors livermet.evidence.glmm_pool.pool_outcome_glmm uses).
#   edges       0 survivors of 12 and 12 of 12 (exact CI bounds at 0 and 1), with three others.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

cases <- list(
  table1_os5 = list(
    ids = c("foster1978", "lang2000", "dematteo2001", "rehders2009", "groeschl2012",
            "marudanayagam2011", "unknown19", "grimme2019", "brudvik2015", "unknown20"),
    x = c(1, 3, 13, 13, 31, 10, 12, 9, 23, 32),
    n = c(12, 15, 42, 27, 98, 31, 27, 21, 47, 62)
  ),
  edges = list(
    ids = c("zero", "all", "a", "b", "c"),
    x = c(0, 12, 5, 37, 1),
    n = c(12, 12, 40, 50, 7)
  )
)

out <- lapply(cases, function(cs) {
  series <- lapply(seq_along(cs$x), function(i) {
    ci <- binom.test(cs$x[i], cs$n[i], conf.level = 0.95)$conf.int
    list(id = cs$ids[i], x = cs$x[i], n = cs$n[i], p = cs$x[i] / cs$n[i],
         ci_lb = ci[1], ci_ub = ci[2])
  })
  fit <- rma.glmm(measure = "PLO", xi = cs$x, ni = cs$n, method = "ML", nAGQ = 7)
  pr <- predict(fit, transf = transf.ilogit)
  list(series = series,
       pooled = list(pred = pr$pred, ci_lb = pr$ci.lb, ci_ub = pr$ci.ub,
                     pi_lb = pr$pi.lb, pi_ub = pr$pi.ub, tau2 = fit$tau2))
})
out$versions <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "glmm-forest-refs.json")
