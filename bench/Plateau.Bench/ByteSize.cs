using System.Globalization;

namespace Plateau.Bench;

/// <summary>A byte count as options take and print it: <c>1MiB</c>, <c>512KiB</c>, <c>1.5GiB</c>, <c>64B</c> or plain bytes.</summary>
public readonly record struct ByteSize(long Bytes)
{
    public static bool TryParse(string text, out ByteSize size)
    {
        ArgumentNullException.ThrowIfNull(text);
        var units = new (string Suffix, long Factor)[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1) };
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                var ok = double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var count)
                    && count * factor is >= 0 and <= long.MaxValue;
                size = new ByteSize(ok ? (long)(count * factor) : 0);
                return ok;
            }
        }
        var plain = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes);
        size = new ByteSize(bytes);
        return plain;
    }

    /// <summary>The largest binary unit that keeps the number at 1 or more, two decimals at most (help defaults, table rows).</summary>
    public override string ToString() =>
        Bytes >= 1 << 20 ? string.Create(CultureInfo.InvariantCulture, $"{Bytes / (double)(1 << 20):0.##}MiB")
        : Bytes >= 1 << 10 ? string.Create(CultureInfo.InvariantCulture, $"{Bytes / 1024.0:0.##}KiB")
        : string.Create(CultureInfo.InvariantCulture, $"{Bytes}B");
}
