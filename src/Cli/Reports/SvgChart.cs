using System.Globalization;
using System.Net;
using System.Text;

namespace Plateau.Cli.Reports;

/// <summary>
/// A plain-SVG line chart (no script, no external resource): one <c>path</c> per series over a numeric x
/// axis, optional log-scale y, and vertical annotations (a dashed line and a label) at given x values.
/// </summary>
public sealed class SvgChart(string title, string xLabel, string yLabel)
{
    private const int Width = 760;
    private const int Height = 300;
    private const int Left = 70;
    private const int Right = 20;
    private const int Top = 34;
    private const int Bottom = 46;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    private readonly List<(string Name, IReadOnlyList<(double X, double Y)> Points)> _series = [];
    private readonly List<(double X, string Label)> _annotations = [];

    public bool LogY { get; init; }

    /// <summary>Formats a y tick (default: 3 significant digits).</summary>
    public Func<double, string> FormatY { get; init; } = y => y.ToString("G3", Invariant);

    public SvgChart Series(string name, IEnumerable<(double X, double Y)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var finite = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!LogY || p.Y > 0)).ToList();
        if (finite.Count > 0)
        {
            _series.Add((name, finite));
        }

        return this;
    }

    public SvgChart Annotate(double x, string label)
    {
        _annotations.Add((x, label));
        return this;
    }

    public string Render()
    {
        var svg = new StringBuilder();
        svg.Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Escape(title)}\">");
        svg.Append(Invariant, $"<text x=\"{Left}\" y=\"20\" class=\"title\">{Escape(title)}</text>");
        if (_series.Count == 0)
        {
            svg.Append(Invariant, $"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\" class=\"empty\">no data</text></svg>");
            return svg.ToString();
        }

        var xs = _series.SelectMany(s => s.Points.Select(p => p.X)).Concat(_annotations.Select(a => a.X)).ToList();
        var ys = _series.SelectMany(s => s.Points.Select(p => Y(p.Y))).ToList();
        var integralX = xs.All(x => x == Math.Floor(x));
        var (x0, x1) = integralX ? (xs.Min() - 0.5, xs.Max() + 0.5) : Range(xs.Min(), xs.Max());
        var (y0, y1) = Range(ys.Min(), ys.Max());
        double Px(double x) => Left + ((x - x0) / (x1 - x0) * (Width - Left - Right));
        double Py(double y) => Height - Bottom - ((Y(y) - y0) / (y1 - y0) * (Height - Top - Bottom));

        // Axes and ticks.
        svg.Append(Invariant, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" class=\"axis\"/>");
        svg.Append(Invariant, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" class=\"axis\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var yv = y0 + ((y1 - y0) * i / 4);
            var py = Height - Bottom - ((yv - y0) / (y1 - y0) * (Height - Top - Bottom));
            var shown = LogY ? Math.Pow(10, yv) : yv;
            svg.Append(Invariant, $"<line x1=\"{Left}\" y1=\"{py:0.#}\" x2=\"{Width - Right}\" y2=\"{py:0.#}\" class=\"grid\"/>");
            svg.Append(Invariant, $"<text x=\"{Left - 6}\" y=\"{py + 4:0.#}\" text-anchor=\"end\" class=\"tick\">{Escape(FormatY(shown))}</text>");
            if (!integralX)
            {
                var xv = x0 + ((x1 - x0) * i / 4);
                svg.Append(Invariant, $"<text x=\"{Px(xv):0.#}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\" class=\"tick\">{xv:0.##}</text>");
            }
        }

        if (integralX)
        {
            var step = Math.Max(1, (int)Math.Ceiling((x1 - x0) / 12));
            for (var xv = Math.Ceiling(x0); xv <= x1; xv += step)
            {
                svg.Append(Invariant, $"<text x=\"{Px(xv):0.#}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\" class=\"tick\">{xv:0}</text>");
            }
        }

        svg.Append(Invariant, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\" class=\"label\">{Escape(xLabel)}</text>");
        svg.Append(Invariant, $"<text x=\"14\" y=\"{(Top + Height - Bottom) / 2}\" transform=\"rotate(-90 14 {(Top + Height - Bottom) / 2})\" text-anchor=\"middle\" class=\"label\">{Escape(yLabel)}</text>");

        for (var s = 0; s < _series.Count; s++)
        {
            var (name, points) = _series[s];
            var colour = Colours[s % Colours.Length];
            var d = string.Join(" ", points.Select((p, i) => string.Create(Invariant, $"{(i == 0 ? "M" : "L")}{Px(p.X):0.##},{Py(p.Y):0.##}")));
            svg.Append(Invariant, $"<path class=\"series\" data-series=\"{Escape(name)}\" d=\"{d}\" stroke=\"{colour}\" fill=\"none\" stroke-width=\"2\"/>");
            foreach (var p in points)
            {
                svg.Append(Invariant, $"<circle cx=\"{Px(p.X):0.##}\" cy=\"{Py(p.Y):0.##}\" r=\"3\" fill=\"{colour}\"><title>{Escape(name)}: {p.Y.ToString("G4", Invariant)} at {p.X.ToString("G4", Invariant)}</title></circle>");
            }

            svg.Append(Invariant, $"<rect x=\"{Width - Right - 150}\" y=\"{Top + (s * 16) - 9}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>");
            svg.Append(Invariant, $"<text x=\"{Width - Right - 136}\" y=\"{Top + (s * 16)}\" class=\"legend\">{Escape(name)}</text>");
        }

        for (var a = 0; a < _annotations.Count; a++)
        {
            var (x, label) = _annotations[a];
            var px = Px(x);
            svg.Append(Invariant, $"<line x1=\"{px:0.##}\" y1=\"{Top}\" x2=\"{px:0.##}\" y2=\"{Height - Bottom}\" class=\"annotation-line\"/>");
            var nearRight = px > Width - Right - 180;
            svg.Append(Invariant, $"<text x=\"{(nearRight ? px - 4 : px + 4):0.##}\" y=\"{Top + 12 + (a % 4 * 13)}\" text-anchor=\"{(nearRight ? "end" : "start")}\" class=\"annotation\">{Escape(label)}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private double Y(double y) => LogY ? Math.Log10(y) : y;

    private static (double Low, double High) Range(double low, double high)
    {
        if (high - low < 1e-12)
        {
            var pad = Math.Abs(low) > 1e-12 ? Math.Abs(low) * 0.1 : 1;
            return (low - pad, high + pad);
        }

        var margin = (high - low) * 0.05;
        return (low - margin, high + margin);
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
