package chart

import (
	"errors"
	"fmt"
	"math"

	"github.com/go-analyze/charts"
)

// Series is one named line or set of bars.
type Series struct {
	// Name is shown in the legend; a lone unnamed series has no legend.
	Name string
	// Values has one entry per label. NaN is a missing value (no bar, a gap
	// in the line); an infinite value is an error.
	Values []float64
}

// Options are the settings every chart shares.
type Options struct {
	// Title is drawn above the chart; empty draws none.
	Title string
	// Width and Height are the SVG's size in pixels; zero means 720 by 300.
	Width, Height int
	// YUnit is appended to value labels, e.g. "%" or "s".
	YUnit string
	// Theme is "light" (the default when empty) or "dark".
	Theme string
}

const (
	defaultWidth  = 720
	defaultHeight = 300
	// edge is the library's default padding around a chart, in pixels.
	edge = 20
	// axisRoom is what a value axis takes beside its widest label: tick and margin.
	axisRoom = 10
	// denseColumn is the library's column width, in pixels, at or below which
	// a heat map's column labels stop being centred under their cells.
	denseColumn = 40
)

// Bars renders series as grouped vertical bars over labels, e.g. volume by hour.
func Bars(labels []string, series []Series, o Options) ([]byte, error) {
	values, names, err := seriesValues(labels, series)
	if err != nil {
		return nil, err
	}
	p, theme, err := newPainter(&o)
	if err != nil {
		return nil, err
	}
	axis, plotWidth := valueAxis(p, values, o)
	opt := charts.NewBarChartOptionWithData(values)
	opt.Theme = theme
	opt.Title = title(o)
	opt.Legend = legend(p, names)
	opt.CategoryAxis = categoryAxis(p, labels, plotWidth)
	opt.ValueAxis = []charts.ValueAxisOption{axis}
	opt.ValueFormatter = axis.ValueFormatter
	if err := p.BarChart(opt); err != nil {
		return nil, fmt.Errorf("chart: bars: %w", err)
	}
	return p.Bytes()
}

// Lines renders series as lines over labels, e.g. the conversion rate by day.
func Lines(labels []string, series []Series, o Options) ([]byte, error) {
	values, names, err := seriesValues(labels, series)
	if err != nil {
		return nil, err
	}
	p, theme, err := newPainter(&o)
	if err != nil {
		return nil, err
	}
	axis, plotWidth := valueAxis(p, values, o)
	opt := charts.NewLineChartOptionWithData(values)
	opt.Theme = theme
	opt.Title = title(o)
	opt.Legend = legend(p, names)
	opt.XAxis = categoryAxis(p, labels, plotWidth)
	opt.YAxis = []charts.YAxisOption{axis}
	opt.ValueFormatter = axis.ValueFormatter
	if err := p.LineChart(opt); err != nil {
		return nil, fmt.Errorf("chart: lines: %w", err)
	}
	return p.Bytes()
}

// Heatmap renders values[row][col] as cells shaded by value, e.g. conversations by weekday × hour.
func Heatmap(rows, cols []string, values [][]float64, o Options) ([]byte, error) {
	// Each non-zero value is also written in its cell when the widest fits;
	// NaN leaves a cell blank, as with Series.Values.
	if len(values) != len(rows) {
		return nil, fmt.Errorf("chart: heatmap has %d rows of values for %d row labels", len(values), len(rows))
	}
	grid := make([][]float64, len(values))
	for i, row := range values {
		if len(row) != len(cols) {
			return nil, fmt.Errorf("chart: heatmap row %d has %d values for %d column labels", i, len(row), len(cols))
		}
		var err error
		if grid[i], err = cleanValues(row); err != nil {
			return nil, fmt.Errorf("chart: heatmap row %d: %w", i, err)
		}
	}
	p, theme, err := newPainter(&o)
	if err != nil {
		return nil, err
	}
	rowLabels := padAll(p, rows, labelFontSize)
	plotWidth := o.Width - 2*edge - widest(p, rowLabels) - axisRoom
	labelStyle := charts.FontStyle{FontSize: labelFontSize}
	opt := charts.NewHeatMapOptionWithData(grid)
	opt.Theme = theme
	opt.Title = title(o)
	colLabels := thinLabels(p, cols, plotWidth)
	if n := len(colLabels); n > 1 && plotWidth/n <= denseColumn {
		// Columns this narrow get their labels at the cells' left edges, and the
		// library pins the last one to the right end, where it runs into its
		// neighbour; the hour it names is plain from the ones before it.
		colLabels[n-1] = ""
	}
	opt.XAxis = charts.HeatMapAxis{
		Labels:         colLabels,
		LabelCount:     len(cols),
		LabelFontStyle: labelStyle,
	}
	opt.YAxis = charts.HeatMapAxis{
		Labels:         rowLabels,
		LabelCount:     len(rows),
		LabelFontStyle: labelStyle,
	}
	opt.ValuesLabel = cellLabels(p, grid, plotWidth/max(len(cols), 1), o.YUnit)
	if err := p.HeatMapChart(opt); err != nil {
		return nil, fmt.Errorf("chart: heatmap: %w", err)
	}
	return p.Bytes()
}

func newPainter(o *Options) (*charts.Painter, charts.ColorPalette, error) {
	if o.Width <= 0 {
		o.Width = defaultWidth
	}
	if o.Height <= 0 {
		o.Height = defaultHeight
	}
	var theme charts.ColorPalette
	switch o.Theme {
	case "", charts.ThemeLight:
		theme = charts.GetTheme(charts.ThemeLight)
	case charts.ThemeDark:
		theme = charts.GetTheme(charts.ThemeDark)
	default:
		return nil, nil, fmt.Errorf("chart: unknown theme %q", o.Theme)
	}
	p := charts.NewPainter(charts.PainterOptions{
		OutputFormat: charts.ChartOutputSVG,
		Width:        o.Width,
		Height:       o.Height,
		Theme:        theme,
	})
	return p, theme, nil
}

func title(o Options) charts.TitleOption {
	return charts.TitleOption{
		Text:      o.Title,
		Show:      charts.Ptr(o.Title != ""),
		FontStyle: charts.FontStyle{FontSize: titleFontSize},
	}
}

// legend sits at the bottom, so the library's title and legend collision
// check, which cannot see a Chinese title's true width, never matters. A lone
// unnamed series has no legend.
func legend(p *charts.Painter, names []string) charts.LegendOption {
	show := len(names) > 1 || len(names) == 1 && names[0] != ""
	return charts.LegendOption{
		SeriesNames: padAll(p, names, labelFontSize),
		Show:        charts.Ptr(show),
		Offset:      charts.OffsetStr{Left: charts.PositionCenter, Top: charts.PositionBottom},
		FontStyle:   charts.FontStyle{FontSize: labelFontSize},
	}
}

// categoryAxis shows every label the library is given (LabelCount), after
// thinLabels has blanked the ones that would not fit.
func categoryAxis(p *charts.Painter, labels []string, plotWidth int) charts.CategoryAxisOption {
	return charts.CategoryAxisOption{
		Labels:         thinLabels(p, labels, plotWidth),
		LabelCount:     len(labels),
		BoundaryGap:    charts.Ptr(true),
		LabelFontStyle: charts.FontStyle{FontSize: labelFontSize},
	}
}

// valueAxis returns a value axis on the rounded range from niceRange and the
// width left for the plot beside it.
func valueAxis(p *charts.Painter, values [][]float64, o Options) (charts.ValueAxisOption, int) {
	lo, hi, ticks := niceRange(values)
	format := func(v float64) string { return formatValue(v, o.YUnit) }
	tickLabels := make([]string, ticks)
	for i := range tickLabels {
		tickLabels[i] = format(lo + (hi-lo)*float64(i)/float64(ticks-1))
	}
	axis := charts.ValueAxisOption{
		Min:                 charts.Ptr(lo),
		Max:                 charts.Ptr(hi),
		LabelCount:          ticks,
		PreferNiceIntervals: charts.Ptr(false),
		ValueFormatter:      format,
		LabelFontStyle:      charts.FontStyle{FontSize: labelFontSize},
	}
	return axis, o.Width - 2*edge - widest(p, tickLabels) - axisRoom
}

// cellLabels writes each non-zero value in its heat map cell, or none at all
// when the widest would not fit a cell of cellWidth pixels.
func cellLabels(p *charts.Painter, grid [][]float64, cellWidth int, unit string) charts.SeriesLabel {
	format := func(v float64) string {
		if v == 0 || v == charts.GetNullValue() {
			return "" // a blank cell reads better than a grid of zeros
		}
		return formatValue(v, unit)
	}
	style := charts.FontStyle{FontSize: cellFontSize, FontColor: charts.ColorBlack}
	var w int
	for _, row := range grid {
		for _, v := range row {
			w = max(w, p.MeasureText(format(v), 0, style).Width())
		}
	}
	return charts.SeriesLabel{
		Show:           charts.Ptr(w+cellLabelGap <= cellWidth),
		FontStyle:      charts.FontStyle{FontSize: cellFontSize},
		ValueFormatter: format,
		// The library starts heat map labels Distance pixels right of the
		// cell's centre; half the widest label back centres them. Zero
		// would mean the library's default of 5.
		Distance: min(-w/2, -1),
	}
}

// cellLabelGap is the least room, in pixels, around a number in a heat map cell.
const cellLabelGap = 8

var errInfinite = errors.New("value is infinite")

func seriesValues(labels []string, series []Series) ([][]float64, []string, error) {
	values := make([][]float64, len(series))
	names := make([]string, len(series))
	for i, s := range series {
		if len(s.Values) != len(labels) {
			return nil, nil, fmt.Errorf("chart: series %q has %d values for %d labels", s.Name, len(s.Values), len(labels))
		}
		v, err := cleanValues(s.Values)
		if err != nil {
			return nil, nil, fmt.Errorf("chart: series %q: %w", s.Name, err)
		}
		values[i], names[i] = v, s.Name
	}
	return values, names, nil
}

// cleanValues copies in, turning NaN into the library's null value (no bar,
// a gap in a line, a blank cell) and refusing infinities.
func cleanValues(in []float64) ([]float64, error) {
	out := make([]float64, len(in))
	for i, v := range in {
		switch {
		case math.IsInf(v, 0):
			return nil, fmt.Errorf("%w at index %d", errInfinite, i)
		case math.IsNaN(v):
			out[i] = charts.GetNullValue()
		default:
			out[i] = v
		}
	}
	return out, nil
}
