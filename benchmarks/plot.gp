# Bar chart of onestone's time over libtorch's per workload (paired runs where there are
# some; below 1 = onestone faster); called by compare.sh with datafile and outfile.
set terminal pngcairo size 1000,520
set output outfile
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "onestone time / libtorch time (lower is better)"
set yrange [0:1.3]
set grid ytics
set xtics rotate by -35
set key top left
set rmargin 10
set bmargin 7
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "#c00000"
set title "onestone vs libtorch 1.13 on the same cores (1.0 = as fast as libtorch)"
plot datafile using 3:xtic(2) title "time ratio, workload/batch/threads" lc rgb "#5050c0"
