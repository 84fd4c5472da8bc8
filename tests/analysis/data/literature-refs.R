# Reference numbers from R survival for the registry-beside-the-literature comparison (issue 14).
# Usage: Rscript literature-refs.R cohort.csv GUYOT_IPD.txt survival-3.5-3-literature.json
# Produced with R 4.2.2 and survival 3.5-3 (Debian packages r-base-core, r-cran-survival).
# Registry: cohort.csv (os_months, death). Literature: three "series" standing in for
# reconstructed IPD, written into the JSON so the tests never call R:
# - guyot: the reconstructed IPD of Guyot et al. 2012's example (survHE 2.0.5 digitise(), the
#   file ../shared/refs/ipd-reconstruction/guyot-example-ipd-survHE-2.0.5.txt), 61 patients;
# - aml: survival's aml data (time as given, read as months), 23 patients;
# - ovarian: survival's ovarian data, futime in days / 30.4375 rounded to 0.01 month, 26 patients.
# Results: log-rank registry vs pooled literature; the same stratified by series (every stratum
# holds one group: chi-square 0); registry vs each series with Holm-adjusted p (p.adjust);
# log-rank between the series; Kaplan-Meier (log-log) of the pooled literature at 12, 36, 60
# months and its median with interval.
suppressMessages({library(survival); library(jsonlite)})
args <- commandArgs(TRUE)
reg <- read.csv(args[1])
g <- read.delim(args[2])
lit <- rbind(data.frame(series="guyot", time=g$time, event=g$event),
             data.frame(series="aml", time=aml$time, event=aml$status),
             data.frame(series="ovarian", time=round(ovarian$futime / 30.4375, 2),
                        event=ovarian$fustat))
both <- function(l) {
  d <- rbind(data.frame(source="registry", series="registry", time=reg$os_months, event=reg$death),
             data.frame(source="literature", series=l$series, time=l$time, event=l$event))
  d$source <- factor(d$source, levels=c("registry", "literature"))
  d
}
sd <- function(f) {
  list(chisq=unname(f$chisq), df=length(f$n) - 1, p=pchisq(f$chisq, length(f$n) - 1, lower.tail=FALSE),
       n=as.numeric(f$n), observed=as.numeric(rowSums(as.matrix(f$obs))),
       expected=as.numeric(rowSums(as.matrix(f$exp))))
}
d <- both(lit)
pooled <- sd(survdiff(Surv(time, event) ~ source, data=d))
strat <- sd(survdiff(Surv(time, event) ~ source + strata(series), data=d))
names <- unique(lit$series)
each <- lapply(names, function(s) sd(survdiff(Surv(time, event) ~ source, data=both(lit[lit$series == s, ]))))
p <- sapply(each, function(x) x$p)
holm <- p.adjust(p, method="holm")
for (i in seq_along(each)) { each[[i]]$series <- names[i]; each[[i]]$p_holm <- holm[i] }
lit$series <- factor(lit$series, levels=names)
between <- sd(survdiff(Surv(time, event) ~ series, data=lit))
f <- survfit(Surv(time, event) ~ 1, data=lit, conf.type="log-log")
s <- summary(f, times=c(12, 36, 60), extend=TRUE)
med <- summary(f)$table
out <- list(
  r_version=R.version.string, survival=as.character(packageVersion("survival")),
  literature=list(series=as.character(lit$series), time=lit$time, event=lit$event),
  pooled=pooled, stratified_by_series=strat, each=each, between=between,
  km=list(time=s$time, n_risk=s$n.risk, surv=s$surv, lower=s$lower, upper=s$upper,
          n=unname(med["records"]), events=unname(med["events"]),
          median=unname(med["median"]), median_lower=unname(med["0.95LCL"]),
          median_upper=unname(med["0.95UCL"])))
writeLines(toJSON(out, auto_unbox=TRUE, digits=NA, pretty=TRUE), args[3])
