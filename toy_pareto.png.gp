set terminal pngcairo size 1500,1960 font ',8'
set output 'toy_pareto.png'
set datafile separator ','
set multiplot layout 7,5
set xrange [-10:10]
set yrange [-10:10]
unset key
set title 'equal' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'equal' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'equal' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'equal' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'equal' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'equal' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'static' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'static' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'static' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'static' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'static' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'static' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'uncertainty' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'uncertainty' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'uncertainty' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'uncertainty' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'uncertainty' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'uncertainty' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'dwa' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'dwa' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dwa' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dwa' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dwa' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dwa' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'rlw' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'rlw' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'rlw' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'rlw' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'rlw' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'rlw' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'gls' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'gls' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gls' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gls' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gls' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gls' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'famo' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'famo' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'famo' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'famo' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'famo' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'famo' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'stch' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'stch' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'stch' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'stch' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'stch' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'stch' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'imtl_l' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'imtl_l' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_l' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_l' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_l' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_l' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'auto_lambda' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'auto_lambda' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'auto_lambda' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'auto_lambda' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'auto_lambda' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'auto_lambda' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'sum' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'sum' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sum' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sum' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sum' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sum' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'mean' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'mean' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mean' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mean' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mean' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mean' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'constant' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'constant' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'constant' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'constant' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'constant' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'constant' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'mgda' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'mgda' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'mgda_l2' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'mgda_l2' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_l2' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_l2' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_l2' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_l2' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'mgda_loss' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'mgda_loss+' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss+' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss+' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss+' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss+' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'mgda_loss+' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'pcgrad' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'pcgrad' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'pcgrad' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'pcgrad' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'pcgrad' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'pcgrad' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'gradvac' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'gradvac' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradvac' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradvac' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradvac' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradvac' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'imtl_g' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'imtl_g' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_g' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_g' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_g' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'imtl_g' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'cagrad' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'cagrad' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'cagrad' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'cagrad' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'cagrad' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'cagrad' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'nash_mtl' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'nash_mtl' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'nash_mtl' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'nash_mtl' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'nash_mtl' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'nash_mtl' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'fairgrad' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'fairgrad' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'fairgrad' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'fairgrad' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'fairgrad' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'fairgrad' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'aligned_mtl' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'aligned_mtl' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'aligned_mtl' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'aligned_mtl' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'aligned_mtl' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'aligned_mtl' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'upgrad' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'upgrad' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'upgrad' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'upgrad' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'upgrad' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'upgrad' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'dualproj' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'dualproj' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dualproj' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dualproj' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dualproj' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'dualproj' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'config' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'config' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'config' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'config' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'config' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'config' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'gradnorm' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'gradnorm' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradnorm' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradnorm' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradnorm' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'gradnorm' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'modo' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'modo' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'modo' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'modo' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'modo' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'modo' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'sdmgrad' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'sdmgrad' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sdmgrad' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sdmgrad' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sdmgrad' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'sdmgrad' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'graddrop' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'graddrop' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'graddrop' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'graddrop' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'graddrop' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'graddrop' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'db_mtl' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'db_mtl' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'db_mtl' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'db_mtl' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'db_mtl' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'db_mtl' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'moco' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'moco' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'moco' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'moco' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'moco' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'moco' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
set title 'excess_mtl' noenhanced
plot 'toy_pareto.csv' using (strcol(1) eq 'excess_mtl' && $2 == 0 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'excess_mtl' && $2 == 1 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'excess_mtl' && $2 == 2 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'excess_mtl' && $2 == 3 ? $4 : 1/0):5 with lines lw 1.5, 'toy_pareto.csv' using (strcol(1) eq 'excess_mtl' && $2 == 4 ? $4 : 1/0):5 with lines lw 1.5, '-' with points pt 7 ps 0.8 lc 'black'
-8.5,7.5
0,0
9,9
-7.5,-0.5
9,-1
e
unset multiplot
