namespace Plateau.Cli.Commands.Data;

/// <summary>
/// One split of an inspected dataset. <see cref="Problem"/> is set (and the counts are 0) when the split
/// is not there; <see cref="Decoded"/> and <see cref="Bad"/> only with <c>--decode</c>.
/// </summary>
public sealed record SplitInspection(
    string Split,
    string? Problem,
    int Samples,
    int Classes,
    IReadOnlyList<string> ClassNames,
    int PerClassMin,
    int PerClassMax,
    IReadOnlyList<string> ClassesWithoutSamples,
    string Location,
    int? Decoded = null,
    IReadOnlyList<string>? Bad = null);
