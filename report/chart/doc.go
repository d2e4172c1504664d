// Package chart renders the shop reports' charts (volume by hour and day,
// the weekday × hour heat map, the first-response distribution, the
// conversion trend) as SVG on the server, so the console needs no chart
// script, no build step and no network to show them.
//
// Drawing is left to github.com/go-analyze/charts: it is maintained, pure Go,
// writes deterministic SVG, has bar, line and heat map charts, and escapes
// the text it writes. This package only turns plain labels and numbers into
// its options: rounded value axes, a regular choice of category labels, and
// room for Chinese text, which the library measures with a Latin font (see
// pad). The package imports nothing else from kefu.
package chart
