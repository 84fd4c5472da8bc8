# Reference numbers from R metafor for edge cases of livermet's evidence engine (issue 12).
# Usage: Rscript metafor-edge-refs.R metafor-3.8-1-edge.json
# Produced with R 4.2.2 and metafor 3.8-1 (Debian packages r-base-core, r-cran-metafor), on
# datasets shipped with metafor (metadat); the JSON holds yi and vi, so the tests never call R.
# - kind "r2_ee": equal-effects meta-regression of the BCG trials (log risk ratios) on latitude
#   and year, latitude, year, allocation, and a moderator that explains nothing. metafor reports
#   R2 = max(0, 100 * adjusted R^2 of lm(yi ~ X, weights = 1/vi)), rma.uni in 3.8-1; the
#   random-effects fits of the same models are included with their pseudo R2 for comparison.
# - kind "trimfill_q0": trimfill(estimator="Q0") on the magnesium trials (dat.egger2001, log
#   odds ratios) and the Li 2007 trials (dat.li2007): where the Q0 square root has a negative
#   argument, metafor stops ("missing value where TRUE/FALSE needed"); where only its standard
#   error has one, metafor returns se.k0 = NaN (written as null) and the fit.
# Fits use control=list(threshold=1e-12, tol=1e-13, maxiter=10000) (iterate to the optimum).
suppressMessages({library(metafor); library(jsonlite)})
out <- commandArgs(TRUE)[1]
tight <- list(threshold=1e-12, tol=1e-13, maxiter=10000)
cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x
num <- function(x) if (is.null(x)) NULL else as.numeric(x)

# ---- 1. R^2 of equal-effects meta-regression ----
bcg <- escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
bcg$noise <- c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9)  # digits of pi: a moderator unrelated to yi
models <- list(ablat_year=~ablat + year, ablat=~ablat, year=~year, alloc=~factor(alloc), noise=~noise)
for (nm in names(models)) {
  for (m in c("EE", "DL", "REML")) {
    res <- rma(yi, vi, mods=models[[nm]], data=bcg, method=m, control=tight)
    X <- res$X[, -1, drop=FALSE]
    add(list(kind="r2_ee", data="bcg_rr", model=nm, method=m, yi=num(bcg$yi), vi=num(bcg$vi),
             mods=lapply(seq_len(ncol(X)), function(j) num(X[, j])), mods_names=colnames(X),
             beta=num(res$beta), se=num(res$se), tau2=res$tau2, QE=res$QE, QM=res$QM, I2=res$I2,
             R2=res$R2))
  }
}

# ---- 2. trim-and-fill with the Q0 estimator ----
tf_data <- list(
  magnesium=escalc("OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.egger2001),
  li2007=escalc("OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.li2007)
)
runs <- list(list("magnesium", "REML", NULL), list("magnesium", "DL", NULL), list("magnesium", "EE", "right"),
             list("magnesium", "EE", "left"), list("li2007", "DL", "left"), list("li2007", "DL", NULL))
for (r in runs) {
  d <- tf_data[[r[[1]]]]
  res <- rma(yi, vi, data=d, method=r[[2]], control=tight)
  msgs <- character(0)
  tf <- withCallingHandlers(
    tryCatch(if (is.null(r[[3]])) trimfill(res, estimator="Q0") else trimfill(res, estimator="Q0", side=r[[3]]),
             error=function(e) conditionMessage(e)),
    warning=function(w) {msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning")})
  x <- list(kind="trimfill_q0", data=r[[1]], method=r[[2]], side_arg=r[[3]], yi=num(d$yi), vi=num(d$vi),
            warnings=unique(msgs))
  if (is.character(tf)) {
    x$error <- tf
  } else {
    x$k0 <- tf$k0; x$side <- tf$side; x$se_k0 <- tf$se.k0; x$beta <- num(tf$beta); x$se <- num(tf$se); x$tau2 <- tf$tau2
  }
  add(x)
}

write_json(list(R=R.version.string, metafor=as.character(packageVersion("metafor")), cases=cases),
           out, auto_unbox=TRUE, digits=NA, pretty=FALSE, null="null", na="null")
cat(length(cases), "cases\n")
