#!/usr/bin/env Rscript
# Writes R survival's `colon` data (adjuvant chemotherapy for stage B/C colon cancer, Moertel
# et al. 1990; 929 patients, two rows each) as one row per patient, with both endpoints:
#   time_rec, status_rec     recurrence (etype 1): days to recurrence or censoring, 1 = recurred
#   time_death, status_death death (etype 2): days to death or censoring, 1 = died
# and the covariates id, rx (Obs, Lev, Lev+5FU), sex, age, obstruct, perfor, adhere, nodes,
# differ, extent, surg, node4 (missing values written as NA).
#
#   apt-get install r-cran-survival
#   Rscript scripts/export_colon.R colon.csv
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) {
  cat("usage: Rscript scripts/export_colon.R OUT.csv\n", file = stderr())
  quit(status = 2)
}
suppressPackageStartupMessages(library(survival))
d <- survival::colon
covars <- c("id", "rx", "sex", "age", "obstruct", "perfor", "adhere", "nodes", "differ",
            "extent", "surg", "node4")
rec <- d[d$etype == 1, c(covars, "time", "status")]
death <- d[d$etype == 2, c("id", "time", "status")]
names(rec)[names(rec) == "time"] <- "time_rec"
names(rec)[names(rec) == "status"] <- "status_rec"
names(death) <- c("id", "time_death", "status_death")
out <- merge(rec, death, by = "id", sort = TRUE)
stopifnot(nrow(out) == length(unique(d$id)))
write.csv(out, args[1], row.names = FALSE, na = "NA", quote = TRUE)
cat(sprintf("wrote %s: %d patients, %d recurrences, %d deaths\n", args[1], nrow(out),
            sum(out$status_rec), sum(out$status_death)))
