# Extra reference numbers from R metafor for the livermet evidence engine (beyond Table 1).
# Usage: Rscript metafor-extra-refs.R metafor-3.8-1-extra.json
# Produced with R 4.2.2 and metafor 3.8-1 (Debian packages r-base-core, r-cran-metafor).
# Every fit uses tight control (iterate to the optimum) unless the case says control="default".
suppressMessages({library(metafor); library(jsonlite)})
out <- commandArgs(TRUE)[1]
tight <- list(threshold=1e-12, tol=1e-13, maxiter=10000)
cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x
num <- function(x) if (is.null(x)) NULL else as.numeric(x)

fitinfo <- function(res) {
  r <- list(beta=num(res$beta), se=num(res$se), ci_lb=num(res$ci.lb), ci_ub=num(res$ci.ub),
            zval=num(res$zval), pval=num(res$pval), tau2=res$tau2, QE=res$QE, QEp=res$QEp,
            I2=res$I2, H2=res$H2, QM=res$QM, QMp=res$QMp, k=res$k, p=res$p)
  if (!is.null(res$se.tau2)) r$se_tau2 <- res$se.tau2
  if (!is.null(res$R2)) r$R2 <- res$R2
  r
}

# ---- 1. escalc: 2x2 tables with zero cells (RR, OR, RD), default add/to and variants ----
tab <- data.frame(ai=c(0, 3, 10, 7, 2, 15), bi=c(20, 27, 40, 33, 18, 85),
                  ci=c(4, 0, 12, 9, 5, 20), di=c(16, 30, 38, 31, 15, 80))
for (ms in c("RR", "OR", "RD")) {
  for (to in c("only0", "all", "if0all", "none")) {
    es <- suppressWarnings(escalc(ms, ai=ai, bi=bi, ci=ci, di=di, data=tab, to=to))
    add(list(kind="escalc", measure=ms, to=to, add=0.5, input=as.list(tab),
             yi=num(es$yi), vi=num(es$vi)))
  }
}
es <- escalc("OR", ai=ai, bi=bi, ci=ci, di=di, data=tab, add=1, to="all")
add(list(kind="escalc", measure="OR", to="all", add=1, input=as.list(tab), yi=num(es$yi), vi=num(es$vi)))
es <- escalc("RD", ai=ai, bi=bi, ci=ci, di=di, data=tab, vtype="UB")
add(list(kind="escalc", measure="RD", to="only0", add=0.5, vtype="UB", input=as.list(tab), yi=num(es$yi), vi=num(es$vi)))

# single proportions with 0 and n events
prop <- data.frame(xi=c(0, 4, 12, 20, 7), ni=c(15, 22, 40, 20, 31))
for (ms in c("PR", "PLN", "PLO", "PAS", "PFT")) {
  for (to in c("only0", "all")) {
    es <- suppressWarnings(escalc(ms, xi=xi, ni=ni, data=prop, to=to))
    add(list(kind="escalc", measure=ms, to=to, input=as.list(prop), yi=num(es$yi), vi=num(es$vi)))
  }
}
for (vt in c("UB", "AV")) {
  es <- escalc("PR", xi=xi, ni=ni, data=prop, vtype=vt)
  add(list(kind="escalc", measure="PR", to="only0", vtype=vt, input=as.list(prop), yi=num(es$yi), vi=num(es$vi)))
}
es <- escalc("PLO", xi=xi, ni=ni, data=prop, vtype="AV")
add(list(kind="escalc", measure="PLO", to="only0", vtype="AV", input=as.list(prop), yi=num(es$yi), vi=num(es$vi)))

# ---- 2. random-effects fits of 2x2 data (log RR of BCG trials; zero-cell table) ----
bcg <- escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
for (m in c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM")) {
  for (tst in c("z", "t", "knha", "adhoc")) {
    res <- rma(yi, vi, data=bcg, method=m, test=tst, control=tight)
    r <- c(list(kind="fit", data="bcg_rr", method=m, test=tst, yi=num(bcg$yi), vi=num(bcg$vi)), fitinfo(res))
    p <- predict(res, transf=exp)
    r$back <- list(pred=num(p$pred), ci_lb=num(p$ci.lb), ci_ub=num(p$ci.ub), pi_lb=num(p$pi.lb), pi_ub=num(p$pi.ub))
    add(r)
  }
}
tabes <- escalc("OR", ai=ai, bi=bi, ci=ci, di=di, data=tab)
for (m in c("DL", "REML", "PM")) {
  res <- rma(yi, vi, data=tabes, method=m, control=tight)
  add(c(list(kind="fit", data="zero_or", method=m, test="z", yi=num(tabes$yi), vi=num(tabes$vi)), fitinfo(res)))
}

# ---- 3. meta-regression: BCG with absolute latitude and year ----
for (m in c("DL", "HE", "SJ", "ML", "REML", "EB", "PM")) {
  for (tst in c("z", "knha")) {
    res <- rma(yi, vi, mods=~ablat + year, data=bcg, method=m, test=tst, control=tight)
    r <- c(list(kind="metareg", data="bcg_rr", method=m, test=tst, yi=num(bcg$yi), vi=num(bcg$vi),
                mods=list(ablat=bcg$ablat, year=bcg$year)), fitinfo(res))
    p <- predict(res, newmods=cbind(c(10, 30, 50), c(1950, 1960, 1970)))
    r$pred <- list(newmods=list(c(10, 1950), c(30, 1960), c(50, 1970)), pred=num(p$pred), se=num(p$se),
                   ci_lb=num(p$ci.lb), ci_ub=num(p$ci.ub), pi_lb=num(p$pi.lb), pi_ub=num(p$pi.ub))
    if (m %in% c("REML", "DL")) {
      inf <- influence(res)
      r$influence <- list(rstudent=num(inf$inf$rstudent), dffits=num(inf$inf$dffits), cook_d=num(inf$inf$cook.d),
                          cov_r=num(inf$inf$cov.r), tau2_del=num(inf$inf$tau2.del), QE_del=num(inf$inf$QE.del),
                          hat=num(inf$inf$hat), weight=num(inf$inf$weight),
                          dfbetas=lapply(unclass(dfbetas(res))[seq_len(res$p)], num), is_infl=as.logical(inf$is.infl))
      rt <- regtest(res)
      r$egger <- list(zval=num(rt$zval), pval=num(rt$pval))
    }
    add(r)
  }
}
res <- rma(yi, vi, mods=~ablat, data=bcg, method="REML", test="t", control=tight)
add(c(list(kind="metareg", data="bcg_rr", method="REML", test="t", yi=num(bcg$yi), vi=num(bcg$vi),
           mods=list(ablat=bcg$ablat)), fitinfo(res)))
res <- rma(yi, vi, mods=~factor(alloc), data=bcg, method="REML", control=tight)
add(c(list(kind="metareg", data="bcg_rr", method="REML", test="z", yi=num(bcg$yi), vi=num(bcg$vi),
           mods=list(random=as.numeric(bcg$alloc == "random"), systematic=as.numeric(bcg$alloc == "systematic"))),
      fitinfo(res)))

# ---- 4. diagnostics without moderators on the BCG data ----
for (m in c("DL", "REML", "PM")) {
  for (tst in c("z", "knha")) {
    res <- rma(yi, vi, data=bcg, method=m, test=tst, control=tight)
    r <- list(kind="diag", data="bcg_rr", method=m, test=tst, yi=num(bcg$yi), vi=num(bcg$vi))
    l1 <- leave1out(res)
    r$leave1out <- list(estimate=num(l1$estimate), se=num(l1$se), pval=num(l1$pval), ci_lb=num(l1$ci.lb),
                        ci_ub=num(l1$ci.ub), Q=num(l1$Q), tau2=num(l1$tau2), I2=num(l1$I2), H2=num(l1$H2))
    cu <- cumul(res, order=bcg$year)
    r$cumul <- list(order=bcg$year, estimate=num(cu$estimate), se=num(cu$se), ci_lb=num(cu$ci.lb),
                    ci_ub=num(cu$ci.ub), Q=num(cu$Q), tau2=num(cu$tau2), I2=num(cu$I2), H2=num(cu$H2))
    inf <- influence(res)
    r$influence <- list(rstudent=num(inf$inf$rstudent), dffits=num(inf$inf$dffits), cook_d=num(inf$inf$cook.d),
                        cov_r=num(inf$inf$cov.r), tau2_del=num(inf$inf$tau2.del), QE_del=num(inf$inf$QE.del),
                        hat=num(inf$inf$hat), weight=num(inf$inf$weight), dfbetas=num(unclass(dfbetas(res))[[1]]),
                        is_infl=as.logical(inf$is.infl))
    ci <- confint(res)
    r$tau2_ci <- num(ci$random["tau^2", c("ci.lb", "ci.ub")])
    r$I2_ci <- num(ci$random["I^2(%)", c("ci.lb", "ci.ub")])
    r$H2_ci <- num(ci$random["H^2", c("ci.lb", "ci.ub")])
    ci2 <- confint(res, control=list(tol=1e-12))
    r$tau2_ci_exact <- num(ci2$random["tau^2", c("ci.lb", "ci.ub")])
    rt <- regtest(res)
    r$egger <- list(zval=num(rt$zval), pval=num(rt$pval), limit_est=num(rt$est), ci_lb=num(rt$ci.lb), ci_ub=num(rt$ci.ub))
    rl <- regtest(res, model="lm")
    r$egger_lm <- list(zval=num(rl$zval), pval=num(rl$pval), limit_est=num(rl$est))
    for (est in c("L0", "R0", "Q0")) {
      tf <- trimfill(res, estimator=est)
      r[[paste0("trimfill_", est)]] <- list(k0=tf$k0, side=tf$side, beta=num(tf$beta), se=num(tf$se), tau2=tf$tau2,
                                           se_k0=tf$se.k0, yi=num(tf$yi), vi=num(tf$vi))
    }
    tf <- trimfill(res, side="right")
    r$trimfill_right <- list(k0=tf$k0, side=tf$side, beta=num(tf$beta), tau2=tf$tau2)
    add(r)
  }
}

# ---- 5. GOSH on a small data set (k = 7): all 127 subsets ----
g7 <- bcg[c(1, 3, 5, 7, 9, 11, 13), ]
for (m in c("EE", "DL", "REML", "PM")) {
  res <- rma(yi, vi, data=g7, method=m, control=tight)
  gs <- gosh(res, progbar=FALSE)
  add(list(kind="gosh", method=m, yi=num(g7$yi), vi=num(g7$vi), k=num(gs$res$k), QE=num(gs$res$QE),
           I2=num(gs$res$I2), H2=num(gs$res$H2), tau2=num(gs$res$tau2), estimate=num(gs$res$estimate),
           incl=lapply(seq_len(nrow(gs$incl)), function(i) as.integer(gs$incl[i, ]))))
}

# ---- 6. other k and data: k = 2, 3 and 30 (simulated, seeded); default control too ----
set.seed(20260826)
sim <- list(k2=list(yi=c(0.2, 0.9), vi=c(0.04, 0.09)),
            k3=list(yi=c(-0.3, 0.4, 1.1), vi=c(0.05, 0.02, 0.1)),
            k30=list(yi=round(rnorm(30, 0.3, 0.4), 4), vi=round(runif(30, 0.01, 0.3), 4)),
            homog=list(yi=c(0.50, 0.52, 0.49, 0.51, 0.50, 0.48), vi=c(0.02, 0.03, 0.025, 0.04, 0.02, 0.03)))
for (nm in names(sim)) {
  d <- sim[[nm]]
  for (m in c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM")) {
    for (ctl in c("tight", "default")) {
      res <- tryCatch(rma(d$yi, d$vi, method=m, test="knha", control=if (ctl == "tight") tight else list()),
                      error=function(e) NULL)
      if (is.null(res)) next
      r <- c(list(kind="fit", data=nm, method=m, test="knha", control=ctl, yi=d$yi, vi=d$vi), fitinfo(res))
      p <- predict(res)
      r$pi_lb <- num(p$pi.lb); r$pi_ub <- num(p$pi.ub)
      add(r)
    }
  }
}

# ---- 7. proportions: PFT back-transform with zero events, PAS clipping ----
for (ms in c("PFT", "PAS", "PLO")) {
  es <- escalc(ms, xi=xi, ni=ni, data=prop)
  res <- rma(yi, vi, data=es, method="REML", control=tight)
  tr <- switch(ms, PFT=transf.ipft.hm, PAS=transf.iarcsin, PLO=transf.ilogit)
  p <- if (ms == "PFT") predict(res, transf=tr, targs=list(ni=prop$ni)) else predict(res, transf=tr)
  add(c(list(kind="fit", data="prop", measure=ms, method="REML", test="z", yi=num(es$yi), vi=num(es$vi),
             ni=prop$ni, back=list(pred=num(p$pred), ci_lb=num(p$ci.lb), ci_ub=num(p$ci.ub),
                                    pi_lb=num(p$pi.lb), pi_ub=num(p$pi.ub))), fitinfo(res)))
}
xs <- seq(-0.2, 1.7, by=0.1)
add(list(kind="transf", x=xs, ipft_hm=num(transf.ipft.hm(xs, targs=list(ni=prop$ni))),
         iarcsin=num(transf.iarcsin(xs)), ilogit=num(transf.ilogit(xs)), ni=prop$ni))

write_json(cases, out, auto_unbox=TRUE, digits=NA, pretty=FALSE, null="null", na="null")
cat(length(cases), "cases\n")
