# Latency against token size, from kunci-bench's size.dat. Called by run-bench with
#   gnuplot -e "data='size.dat'; out='plot.png'" latency-vs-size.gp
set terminal pngcairo size 900,540 font "sans,11"
set output out
set title "kunci-agent latency against the number of objects on a SoftHSM token (median)"
set xlabel "objects on the token"
set ylabel "milliseconds (log scale)"
set logscale y
set format y "%g"
set key top left font ",10"
set grid
set xtics (0, 100, 500)
set xrange [-20:520]
set yrange [0.005:*]
plot data using 1:2 with linespoints lw 2 pt 7 title "certificates.list (kunci, WebSocket)", \
     data using 1:3 with linespoints lw 2 pt 6 dt 2 title "certificates.list floor (C, FindObjects + attributes)", \
     data using 1:4 with linespoints lw 2 pt 5 title "renewal.begin EC P-256 (kunci, WebSocket)", \
     data using 1:5 with linespoints lw 2 pt 4 dt 2 title "renewal.begin floor (C, GenerateKeyPair + Sign)"
