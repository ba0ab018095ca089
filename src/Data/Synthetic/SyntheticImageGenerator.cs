using Plateau.Data.Randomness;

namespace Plateau.Data.Synthetic;

/// <summary>
/// Deterministic, learnable N-class images. The class fixes the foreground shape (10 shapes) and, past 10 classes,
/// its fill pattern (solid, striped, dotted); everything else is random per sample so the network must learn shape:
/// position, size, rotation (±20°, so square/diamond and plus/X stay distinct), foreground and background colours
/// with varying contrast, a background gradient and sinusoidal texture, clutter strokes and Gaussian pixel noise.
/// Each image is a pure function of (seed, split, index).
/// </summary>
public sealed class SyntheticImageGenerator
{
    public const int Shapes = 10;
    public const int FillStyles = 3;

    public static IReadOnlyList<string> ShapeNames { get; } =
        ["disc", "square", "triangle", "ring", "plus", "diamond", "flower", "crescent", "frame", "cross"];

    private static readonly string[] FillNames = ["solid", "striped", "dotted"];

    public SyntheticImageGenerator(int numClasses, int size, int seed)
    {
        if (numClasses < 2 || numClasses > Shapes * FillStyles)
        {
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"synthetic data supports 2..{Shapes * FillStyles} classes");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8, nameof(size));
        NumClasses = numClasses;
        Size = size;
        Seed = seed;
    }

    public int NumClasses { get; }

    public int Size { get; }

    public int Seed { get; }

    /// <summary>Label of sample <paramref name="index"/>: classes cycle, so every split is balanced.</summary>
    public int LabelOf(long index) => (int)(index % NumClasses);

    public static string ClassName(int label) =>
        label < Shapes ? ShapeNames[label] : $"{FillNames[label / Shapes]}-{ShapeNames[label % Shapes]}";

    /// <summary>Renders sample <paramref name="index"/> of split <paramref name="split"/> (0 train, 1 test) as HWC RGB.</summary>
    public void Render(int split, long index, Span<byte> hwc)
    {
        var n = Size;
        if (hwc.Length < n * n * 3)
        {
            throw new ArgumentException($"destination needs {n * n * 3} bytes", nameof(hwc));
        }
        var label = LabelOf(index);
        var shape = label % Shapes;
        var fill = label / Shapes;
        var rng = new CounterRandom((ulong)Seed, (ulong)split, (ulong)index, CounterRandom.Streams.Synthetic);

        // Colours: background and foreground hues independent; foreground value offset sets the contrast.
        var bg = Hsv(rng.NextDouble(), rng.NextDouble(0.2, 0.9), rng.NextDouble(0.25, 0.85));
        var contrast = rng.NextDouble(0.18, 0.6) * (rng.NextBool() ? 1 : -1);
        var fgValue = Math.Clamp(Luma(bg) + contrast, 0.05, 0.98);
        var fg = WithLuma(Hsv(rng.NextDouble(), rng.NextDouble(0.3, 1.0), 0.8), fgValue);
        var alt = Hsv(rng.NextDouble(), rng.NextDouble(0.2, 1.0), rng.NextDouble(0.2, 0.9));

        // Background gradient and texture.
        var gradAngle = rng.NextDouble(0, 2 * Math.PI);
        var gradAmp = rng.NextDouble(0, 0.25);
        var texAngle = rng.NextDouble(0, Math.PI);
        var texFreq = rng.NextDouble(2, 7) * 2 * Math.PI;
        var texAmp = rng.NextDouble(0, 0.15);

        // Shape geometry (unit-radius local frame).
        var radius = rng.NextDouble(0.22, 0.4);
        var cx = rng.NextDouble(radius, 1 - radius);
        var cy = rng.NextDouble(radius, 1 - radius);
        var angle = rng.NextDouble(-20, 20) * Math.PI / 180;
        var (sin, cos) = Math.SinCos(angle);
        var stripeFreq = rng.NextDouble(3, 5) * Math.PI;

        // Clutter: up to two strokes in random colours.
        var strokes = rng.NextInt(3);
        Span<double> stroke = stackalloc double[8];
        for (var s = 0; s < strokes * 4; s++)
        {
            stroke[s] = rng.NextDouble();
        }
        var strokeWidth = rng.NextDouble(0.015, 0.04);
        var noise = rng.NextDouble(0.02, 0.1);

        var inv = 1.0 / n;
        for (var y = 0; y < n; y++)
        {
            for (var x = 0; x < n; x++)
            {
                var px = (x + 0.5) * inv;
                var py = (y + 0.5) * inv;
                var g = (gradAmp * (((px - 0.5) * Math.Cos(gradAngle)) + ((py - 0.5) * Math.Sin(gradAngle)))) +
                        (texAmp * Math.Sin(texFreq * ((px * Math.Cos(texAngle)) + (py * Math.Sin(texAngle)))));
                double r = bg.R + g, gg = bg.G + g, b = bg.B + g;

                for (var s = 0; s < strokes; s++)
                {
                    if (DistanceToSegment(px, py, stroke[s * 4], stroke[(s * 4) + 1], stroke[(s * 4) + 2], stroke[(s * 4) + 3]) < strokeWidth)
                    {
                        (r, gg, b) = (alt.R, alt.G, alt.B);
                    }
                }

                // 2x2 supersampled coverage for antialiased edges.
                var coverage = 0.0;
                for (var sy = 0; sy < 2; sy++)
                {
                    for (var sx = 0; sx < 2; sx++)
                    {
                        var qx = ((x + 0.25 + (0.5 * sx)) * inv - cx) / radius;
                        var qy = ((y + 0.25 + (0.5 * sy)) * inv - cy) / radius;
                        var u = (cos * qx) + (sin * qy);
                        var v = (-sin * qx) + (cos * qy);
                        if (Inside(shape, u, v) && Filled(fill, u, v, stripeFreq))
                        {
                            coverage += 0.25;
                        }
                    }
                }
                r = (r * (1 - coverage)) + (fg.R * coverage);
                gg = (gg * (1 - coverage)) + (fg.G * coverage);
                b = (b * (1 - coverage)) + (fg.B * coverage);

                var o = ((y * n) + x) * 3;
                hwc[o] = ToByte(r + (noise * ApproxGaussian(ref rng)));
                hwc[o + 1] = ToByte(gg + (noise * ApproxGaussian(ref rng)));
                hwc[o + 2] = ToByte(b + (noise * ApproxGaussian(ref rng)));
            }
        }
    }

    /// <summary>Unit-variance noise from four 16-bit uniforms (Irwin-Hall): no log/cos per pixel.</summary>
    private static double ApproxGaussian(ref CounterRandom rng)
    {
        var bits = rng.NextUInt64();
        var sum = (bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48);
        return ((sum / 65536.0) - 2.0) * 1.7320508075688772;
    }

    private static bool Inside(int shape, double u, double v)
    {
        var au = Math.Abs(u);
        var av = Math.Abs(v);
        switch (shape)
        {
            case 0: return (u * u) + (v * v) <= 1;
            case 1: return Math.Max(au, av) <= 0.8;
            case 2: return InTriangle(u, v);
            case 3:
                {
                    var r2 = (u * u) + (v * v);
                    return r2 <= 1 && r2 >= 0.36;
                }
            case 4: return (au <= 0.3 && av <= 0.95) || (av <= 0.3 && au <= 0.95);
            case 5: return au + av <= 1;
            case 6:
                {
                    var r = Math.Sqrt((u * u) + (v * v));
                    var t = Math.Atan2(v, u);
                    return r <= 0.55 + (0.42 * Math.Cos(5 * t));
                }
            case 7:
                {
                    var inOuter = (u * u) + (v * v) <= 1;
                    var du = u - 0.45;
                    var dv = v + 0.2;
                    return inOuter && (du * du) + (dv * dv) > 0.72;
                }
            case 8:
                {
                    var m = Math.Max(au, av);
                    return m <= 0.85 && m >= 0.52;
                }
            default:
                {
                    var s = Math.Sqrt(0.5);
                    var ru = Math.Abs(s * (u - v));
                    var rv = Math.Abs(s * (u + v));
                    return (ru <= 0.28 && rv <= 1.0) || (rv <= 0.28 && ru <= 1.0);
                }
        }
    }

    private static bool Filled(int fill, double u, double v, double frequency) => fill switch
    {
        1 => Math.Sin(frequency * (u + v)) > -0.2,
        2 => Math.Sin(frequency * u) * Math.Sin(frequency * v) > -0.3,
        _ => true,
    };

    private static bool InTriangle(double u, double v)
    {
        // Vertices (0, -0.95), (0.85, 0.6), (-0.85, 0.6); y grows downwards.
        static double Edge(double ax, double ay, double bx, double by, double px, double py) =>
            ((bx - ax) * (py - ay)) - ((by - ay) * (px - ax));
        var e1 = Edge(0, -0.95, 0.85, 0.6, u, v);
        var e2 = Edge(0.85, 0.6, -0.85, 0.6, u, v);
        var e3 = Edge(-0.85, 0.6, 0, -0.95, u, v);
        return (e1 >= 0 && e2 >= 0 && e3 >= 0) || (e1 <= 0 && e2 <= 0 && e3 <= 0);
    }

    private static double DistanceToSegment(double px, double py, double ax, double ay, double bx, double by)
    {
        var dx = bx - ax;
        var dy = by - ay;
        var len2 = (dx * dx) + (dy * dy);
        var t = len2 == 0 ? 0 : Math.Clamp((((px - ax) * dx) + ((py - ay) * dy)) / len2, 0, 1);
        var ex = ax + (t * dx) - px;
        var ey = ay + (t * dy) - py;
        return Math.Sqrt((ex * ex) + (ey * ey));
    }

    private readonly record struct Rgb(double R, double G, double B);

    private static double Luma(Rgb c) => (0.299 * c.R) + (0.587 * c.G) + (0.114 * c.B);

    private static Rgb WithLuma(Rgb c, double target)
    {
        var l = Luma(c);
        if (l <= 1e-6)
        {
            return new Rgb(target, target, target);
        }
        var k = target / l;
        return new Rgb(Math.Clamp(c.R * k, 0, 1), Math.Clamp(c.G * k, 0, 1), Math.Clamp(c.B * k, 0, 1));
    }

    private static Rgb Hsv(double h, double s, double v)
    {
        var i = (int)Math.Floor(h * 6) % 6;
        var f = (h * 6) - Math.Floor(h * 6);
        var p = v * (1 - s);
        var q = v * (1 - (f * s));
        var t = v * (1 - ((1 - f) * s));
        return i switch
        {
            0 => new Rgb(v, t, p),
            1 => new Rgb(q, v, p),
            2 => new Rgb(p, v, t),
            3 => new Rgb(p, q, v),
            4 => new Rgb(t, p, v),
            _ => new Rgb(v, p, q),
        };
    }

    private static byte ToByte(double v) => (byte)Math.Clamp((int)Math.Round(v * 255), 0, 255);
}
