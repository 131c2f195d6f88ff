# Bar chart of onestone vs libtorch step times; called by compare.sh with datafile and outfile.
set terminal pngcairo size 1000,500
set output outfile
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "milliseconds per step"
set xtics rotate by -30
set key top left
plot datafile using 3:xtic(2) title "onestone", '' using 4 title "libtorch"
