namespace Plateau.Cli.Commands.Data;

/// <summary>What <c>plateau data inspect</c> found: the dataset's format and each of its splits.</summary>
public sealed record DatasetInspection(string Path, string Format, IReadOnlyList<SplitInspection> Splits)
{
    /// <summary>Bad samples found by decoding, over all splits (0 without <c>--decode</c>).</summary>
    public int BadSamples => Splits.Sum(s => s.Bad?.Count ?? 0);
}
