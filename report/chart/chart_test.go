package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-analyze/charts"
)

func hours(suffix string) []string {
	out := make([]string, 24)
	for i := range out {
		out[i] = fmt.Sprintf("%02d%s", i, suffix)
	}
	return out
}

func ramp(n int, f func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func weekGrid(f func(r, c int) float64) [][]float64 {
	grid := make([][]float64, 7)
	for r := range grid {
		grid[r] = ramp(24, func(c int) float64 { return f(r, c) })
	}
	return grid
}

var weekdays = []string{"星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"}

// svgText parses b as XML and returns the root element's name and the
// trimmed text of every <text> element, failing the test if b is not XML.
func svgText(t *testing.T, b []byte) (string, []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var root string
	var texts []string
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("output is not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			inText = tok.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				texts = append(texts, strings.TrimSpace(string(tok)))
			}
		}
	}
	return root, texts
}

func TestRender(t *testing.T) {
	days := []string{"12-01", "12-02", "12-03", "12-04", "12-05", "12-06", "12-07"}
	tests := []struct {
		name   string
		render func() ([]byte, error)
		want   []string // text that must appear, each as a whole <text> element
	}{
		{
			name: "bars by hour",
			render: func() ([]byte, error) {
				return Bars(hours(""), []Series{{Name: "Conversations", Values: ramp(24, func(i int) float64 { return float64(i * 3) })}},
					Options{Title: "Conversations by hour"})
			},
			want: []string{"Conversations by hour", "00", "Conversations"},
		},
		{
			name: "bars with Chinese labels",
			render: func() ([]byte, error) {
				return Bars(hours("时"), []Series{{Name: "会话数", Values: ramp(24, func(i int) float64 { return float64(i % 7) })}},
					Options{Title: "按小时的会话量（近30天）"})
			},
			want: []string{"按小时的会话量（近30天）", "00时", "会话数"},
		},
		{
			name: "first response histogram in seconds",
			render: func() ([]byte, error) {
				return Bars([]string{"<30s", "30–60s", "1–2m", "2–5m", ">5m"}, []Series{{Values: []float64{120, 64, 30, 9, 2}}},
					Options{Title: "首次响应时间分布", YUnit: ""})
			},
			want: []string{"首次响应时间分布", "<30s", ">5m"},
		},
		{
			name: "markup in labels is escaped",
			render: func() ([]byte, error) {
				return Bars([]string{`<b>&"`, "x"}, []Series{{Name: `<i>&'`, Values: []float64{1, 2}}, {Name: "y", Values: []float64{2, 1}}},
					Options{Title: `<script>&"`})
			},
			want: []string{`<b>&"`, `<i>&'`, `<script>&"`},
		},
		{
			name: "conversion trend in percent",
			render: func() ([]byte, error) {
				return Lines(days, []Series{
					{Name: "转化率", Values: []float64{12.5, 13.1, 11.8, 14.2, 15, 9.9, 10.4}},
					{Name: "上周", Values: []float64{10.5, 11.1, 10.8, 12.2, 13, 8.9, 9.4}},
				}, Options{Title: "转化率趋势", YUnit: "%"})
			},
			want: []string{"转化率趋势", "12-01", "转化率", "上周", "0%", "15%"},
		},
		{
			name: "a day with no conversations leaves a gap",
			render: func() ([]byte, error) {
				return Lines(days, []Series{{Name: "FRT", Values: []float64{30, math.NaN(), 42, 38, 0, 51, 47}}},
					Options{Title: "First response", YUnit: "s", Theme: "dark"})
			},
			want: []string{"First response", "0s", "60s"},
		},
		{
			name: "all zeros",
			render: func() ([]byte, error) {
				return Lines(days, []Series{{Name: "转化率", Values: make([]float64, len(days))}}, Options{Title: "空", YUnit: "%"})
			},
			want: []string{"空", "0%", "5%"},
		},
		{
			name:   "no labels and no series",
			render: func() ([]byte, error) { return Bars(nil, nil, Options{Title: "Nothing yet"}) },
			want:   []string{"Nothing yet"},
		},
		{
			name:   "labels but no series",
			render: func() ([]byte, error) { return Lines(days, nil, Options{}) },
		},
		{
			name:   "series with no values",
			render: func() ([]byte, error) { return Lines(nil, []Series{{Name: "a"}}, Options{Title: "t"}) },
			want:   []string{"t"},
		},
		{
			name: "weekday by hour heat map",
			render: func() ([]byte, error) {
				return Heatmap(weekdays, hours("时"), weekGrid(func(r, c int) float64 { return float64((r*7 + c*13) % 31) }),
					Options{Title: "星期 × 小时"})
			},
			want: []string{"星期 × 小时", "星期一", "星期日", "00时"},
		},
		{
			name: "heat map of zeros",
			render: func() ([]byte, error) {
				return Heatmap(weekdays, hours(""), weekGrid(func(int, int) float64 { return 0 }), Options{Title: "Quiet week"})
			},
			want: []string{"Quiet week", "星期一"},
		},
		{
			name: "heat map with markup and a NaN cell",
			render: func() ([]byte, error) {
				return Heatmap([]string{`<b>&"`, "r2"}, []string{"c1", `<i>`}, [][]float64{{1, math.NaN()}, {3, 4}},
					Options{Title: "t", Width: 400, Height: 200})
			},
			want: []string{`<b>&"`, `<i>`, "1", "4"},
		},
		{
			name:   "empty heat map",
			render: func() ([]byte, error) { return Heatmap(nil, nil, nil, Options{Title: "Nothing yet"}) },
			want:   []string{"Nothing yet"},
		},
		{
			name:   "heat map with rows but no columns",
			render: func() ([]byte, error) { return Heatmap(weekdays, nil, make([][]float64, 7), Options{}) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			second, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Error("two renders of the same input differ")
			}
			if bytes.Contains(first, []byte("NaN")) || bytes.Contains(first, []byte("Inf")) {
				t.Error("output contains NaN or Inf")
			}
			for _, raw := range []string{"<b>", "<i>", "<script>"} {
				if bytes.Contains(first, []byte(raw)) {
					t.Errorf("output contains unescaped %s", raw)
				}
			}
			root, texts := svgText(t, first)
			if root != "svg" {
				t.Errorf("root element is %q, want svg", root)
			}
			for _, w := range tt.want {
				if !slices.Contains(texts, w) {
					t.Errorf("no text %q in %q", w, texts)
				}
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	two := []string{"a", "b"}
	tests := []struct {
		name   string
		render func() ([]byte, error)
		want   string
	}{
		{"too few values", func() ([]byte, error) { return Bars(two, []Series{{Name: "s", Values: []float64{1}}}, Options{}) }, `series "s" has 1 values for 2 labels`},
		{"infinite value", func() ([]byte, error) {
			return Lines(two, []Series{{Name: "s", Values: []float64{1, math.Inf(1)}}}, Options{})
		}, "infinite"},
		{"unknown theme", func() ([]byte, error) { return Bars(two, nil, Options{Theme: "neon"}) }, `unknown theme "neon"`},
		{"heat map rows", func() ([]byte, error) { return Heatmap(two, two, [][]float64{{1, 2}}, Options{}) }, "1 rows of values for 2 row labels"},
		{"heat map row length", func() ([]byte, error) { return Heatmap(two, two, [][]float64{{1, 2}, {1}}, Options{}) }, "row 1 has 1 values for 2 column labels"},
		{"heat map infinite", func() ([]byte, error) { return Heatmap(two, two, [][]float64{{1, 2}, {1, math.Inf(-1)}}, Options{}) }, "infinite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.render()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestValueAxisIsRounded(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		unit   string
		want   []string
	}{
		{"counts get whole steps", []float64{1, 23, 7}, "", []string{"0", "5", "10", "15", "20", "25"}},
		{"rates get round percents", []float64{9.9, 16.1}, "%", []string{"0%", "5%", "10%", "15%", "20%"}},
		{"small values", []float64{0.12, 0.37}, "", []string{"0", "0.1", "0.2", "0.3", "0.4"}},
		{"large values shorten", []float64{42000}, "", []string{"0", "10k", "20k", "30k", "40k", "50k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels := make([]string, len(tt.values))
			b, err := Bars(labels, []Series{{Values: tt.values}}, Options{YUnit: tt.unit})
			if err != nil {
				t.Fatal(err)
			}
			_, texts := svgText(t, b)
			for _, w := range tt.want {
				if !slices.Contains(texts, w) {
					t.Errorf("no axis label %q in %q", w, texts)
				}
			}
		})
	}
}

func TestNiceRange(t *testing.T) {
	tests := []struct {
		name   string
		values [][]float64
		lo, hi float64
		ticks  int
	}{
		{"empty", nil, 0, 5, 6},
		{"zeros", [][]float64{{0, 0}}, 0, 5, 6},
		{"counts", [][]float64{{1, 23}, {7}}, 0, 25, 6},
		{"one", [][]float64{{1}}, 0, 1, 6},
		{"rates", [][]float64{{9.9, 16.1}}, 0, 20, 5},
		{"negative", [][]float64{{-3, 8}}, -5, 10, 4},
		{"nulls ignored", [][]float64{{charts.GetNullValue(), 4}}, 0, 4, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, ticks := niceRange(tt.values)
			if math.Abs(lo-tt.lo) > 1e-9 || math.Abs(hi-tt.hi) > 1e-9 || ticks != tt.ticks {
				t.Errorf("niceRange = %v, %v, %d; want %v, %v, %d", lo, hi, ticks, tt.lo, tt.hi, tt.ticks)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0, "", "0"},
		{25, "", "25"},
		{12.5, "%", "12.5%"},
		{0.30000000000000004, "", "0.3"},
		{1.005, "s", "1s"},
		{-0.001, "", "0"},
		{9999, "", "9999"},
		{12000, "", "12k"},
		{12345, "", "12.3k"},
		{-25000, "", "-25k"},
		{2500000, "", "2.5M"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.v, tt.unit), func(t *testing.T) {
			if got := formatValue(tt.v, tt.unit); got != tt.want {
				t.Errorf("formatValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
			}
		})
	}
}

func TestPadGivesChineseItsWidth(t *testing.T) {
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG})
	style := charts.FontStyle{FontSize: labelFontSize, FontColor: charts.ColorBlack}
	em := labelFontSize * 96 / 72
	tests := []struct {
		label string
		wide  int
	}{
		{"Mon", 0},
		{"星期一", 3},
		{"12月1日", 2},
		{"会话量（按小时）", 8},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got := pad(p, tt.label, labelFontSize)
			if strings.TrimRight(got, " ") != tt.label {
				t.Fatalf("pad changed the visible text: %q", got)
			}
			if tt.wide == 0 {
				if got != tt.label {
					t.Errorf("pad(%q) = %q, want it unchanged", tt.label, got)
				}
				return
			}
			// At least the CJK characters' full width, and not much more.
			w := p.MeasureText(got, 0, style).Width()
			if min := tt.wide * em; w < min || w > min+4*em {
				t.Errorf("padded %q measures %dpx, want at least %dpx", tt.label, w, min)
			}
		})
	}
}

func TestThinLabelsKeepsARegularStep(t *testing.T) {
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG})
	tests := []struct {
		name      string
		labels    []string
		plotWidth int
		want      []int // indexes left visible
	}{
		{"every hour fits a wide chart", hours(""), 2000, ramp24Indexes(1)},
		{"hours at 620px", hours(""), 620, ramp24Indexes(2)},
		{"Chinese hours at 620px", hours("时"), 620, ramp24Indexes(2)},
		{"Chinese hours at 300px", hours("时"), 300, ramp24Indexes(4)},
		{"no labels", nil, 620, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var shown []int
			for i, l := range thinLabels(p, tt.labels, tt.plotWidth) {
				if l != "" {
					shown = append(shown, i)
				}
			}
			if !slices.Equal(shown, tt.want) {
				t.Errorf("shown %v, want %v", shown, tt.want)
			}
		})
	}
}

func ramp24Indexes(step int) []int {
	var out []int
	for i := 0; i < 24; i += step {
		out = append(out, i)
	}
	return out
}

func BenchmarkBars(b *testing.B) {
	labels, values := hours("时"), ramp(24, func(i int) float64 { return float64(i * i % 97) })
	for b.Loop() {
		if _, err := Bars(labels, []Series{{Name: "会话数", Values: values}}, Options{Title: "按小时的会话量"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLines(b *testing.B) {
	labels := make([]string, 30)
	for i := range labels {
		labels[i] = fmt.Sprintf("12月%d日", i+1)
	}
	values := ramp(30, func(i int) float64 { return 10 + float64(i%7) })
	for b.Loop() {
		if _, err := Lines(labels, []Series{{Name: "转化率", Values: values}}, Options{Title: "转化率趋势", YUnit: "%"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeatmap(b *testing.B) {
	cols, grid := hours("时"), weekGrid(func(r, c int) float64 { return float64((r*7 + c*13) % 31) })
	for b.Loop() {
		if _, err := Heatmap(weekdays, cols, grid, Options{Title: "星期 × 小时"}); err != nil {
			b.Fatal(err)
		}
	}
}

// The reports render charts from many requests at once; the library keeps
// shared font caches, so check that concurrent renders neither race nor differ.
func TestConcurrentRendersMatch(t *testing.T) {
	render := func() ([]byte, error) {
		return Heatmap(weekdays, hours("时"), weekGrid(func(r, c int) float64 { return float64(r * c) }), Options{Title: "星期 × 小时"})
	}
	want, err := render()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = render() })
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(got[i], want) {
			t.Errorf("render %d differs from the serial one", i)
		}
	}
}
