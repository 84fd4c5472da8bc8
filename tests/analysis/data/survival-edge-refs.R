# Reference numbers from R survival for the edges of livermet's pointwise intervals (issue 12).
# Usage: Rscript survival-edge-refs.R survival-3.5-3-edge.json
# Produced with R 4.2.2 and survival 3.5-3 (Debian packages r-base-core, r-cran-survival), on
# datasets shipped with survival, written into the JSON so the tests never call R:
# - rats (Mantel 1977): censorings at 23 and 32 before the first event at 34, so S(t) = 1 after
#   time 0; R's log-log interval is NA there;
# - aml, Nonmaintained arm: the last time is a death, S = 0 at the end;
# - mgus2: time to the first of progression (pcm) or death, the Aalen-Johansen example of
#   survival's "compete" vignette; no progression before month 2, so p(pcm) = 0 at month 1;
# - rats with a factor status: a one-event-type Aalen-Johansen fit whose event-free state is 1
#   after time 0.
# The input data are under "data" (name, or name_aj for the Aalen-Johansen coding; the first
# level of an event factor is censoring). Each fit for conf.type "log-log", "log" and "plain":
# the whole curve (R's fit$time, n.risk, n.event, surv or pstate, std.err, lower, upper),
# summary(fit, times=, extend=TRUE) and, for Kaplan-Meier, the median with its interval.
# NA is written as null.
suppressMessages({library(survival); library(jsonlite)})
out <- commandArgs(TRUE)[1]
types <- c("log-log", "log", "plain")
cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x
num <- function(x) as.numeric(x)
mat <- function(x) lapply(seq_len(nrow(x)), function(i) num(x[i, ]))  # row-major list of rows

inputs <- list()
km_case <- function(name, time, status, times) {
  inputs[[name]] <<- list(time=num(time), status=num(status))
  for (ct in types) {
    f <- survfit(Surv(time, status) ~ 1, conf.type=ct)
    s <- summary(f, times=times, extend=TRUE)
    med <- summary(f)$table
    add(list(kind="km", data=name, conf_type=ct,
             curve=list(time=num(f$time), n_risk=num(f$n.risk), n_event=num(f$n.event), surv=num(f$surv),
                        std_err=num(f$std.err), lower=num(f$lower), upper=num(f$upper)),
             at=list(time=num(s$time), n_risk=num(s$n.risk), surv=num(s$surv), std_err=num(s$std.err),
                     lower=num(s$lower), upper=num(s$upper)),
             median=list(estimate=unname(med["median"]), lower=unname(med["0.95LCL"]), upper=unname(med["0.95UCL"]))))
  }
}

aj_case <- function(name, time, event, times) {
  inputs[[paste0(name, "_aj")]] <<- list(time=num(time), event=as.character(event), levels=levels(event))
  for (ct in types) {
    f <- survfit(Surv(time, event) ~ 1, conf.type=ct)
    s <- summary(f, times=times, extend=TRUE)
    add(list(kind="aj", data=name, conf_type=ct, states=f$states,
             curve=list(time=num(f$time), n_risk=num(f$n.risk[, 1]), pstate=mat(f$pstate),
                        std_err=mat(f$std.err), lower=mat(f$lower), upper=mat(f$upper)),
             at=list(time=num(s$time), pstate=mat(s$pstate), std_err=mat(s$std.err),
                     lower=mat(s$lower), upper=mat(s$upper))))
  }
}

km_case("rats", rats$time, rats$status, c(0, 10, 23, 30, 32, 34, 40, 60, 100))
nm <- aml[aml$x == "Nonmaintained", ]
km_case("aml_nonmaintained", nm$time, nm$status, c(0, 5, 12, 30, 45, 50))

etime <- with(mgus2, ifelse(pstat == 0, futime, ptime))
event <- factor(with(mgus2, ifelse(pstat == 0, 2 * death, 1)), 0:2, labels=c("censor", "pcm", "death"))
aj_case("mgus2", etime, event, c(0, 0.5, 1, 2, 12, 120, 400))
aj_case("rats", rats$time, factor(rats$status, 0:1, labels=c("censor", "tumour")), c(0, 23, 30, 34, 60))

write_json(list(R=R.version.string, survival=as.character(packageVersion("survival")), data=inputs,
                cases=cases),
           out, auto_unbox=TRUE, digits=NA, pretty=FALSE, null="null", na="null")
cat(length(cases), "cases\n")
