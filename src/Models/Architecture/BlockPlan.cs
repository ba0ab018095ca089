namespace Plateau.Models.Architecture;

/// <summary>
/// One residual block as resolved data: widths, stride, the shortcut it gets and its SE width. The
/// ResNet module and the analytic model cost both read it.
/// </summary>
/// <param name="Stage">1-based stage number (<c>layer{Stage}</c>).</param>
/// <param name="Index">Position within the stage (<c>layer{Stage}.{Index}</c>).</param>
/// <param name="Width">Channels inside the block (the bottleneck's reduced width).</param>
/// <param name="StrideOnFirstConv">For a down-sampling bottleneck in the paper's v1: stride on the first 1x1.</param>
/// <param name="SeChannels">Hidden width of the block's SE excitation, or null when the block has none.</param>
public sealed record BlockPlan(
    int Stage,
    int Index,
    int InChannels,
    int Width,
    int OutChannels,
    int Stride,
    bool StrideOnFirstConv,
    ShortcutKind Shortcut,
    int? SeChannels);
