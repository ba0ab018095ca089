namespace Plateau.Models.Architecture;

/// <summary>
/// One registered network as data: the single ResNet builder reads these records, there is no subclass
/// per depth. <see cref="StageWidths"/> are the base widths (bottlenecks expand them by 4).
/// </summary>
public sealed record ModelVariant(
    string Name,
    ModelFamily Family,
    BlockKind Block,
    IReadOnlyList<int> BlocksPerStage,
    bool Residual,
    bool SqueezeExcitation)
{
    public int Depth => (BlocksPerStage.Sum() * (Block == BlockKind.Bottleneck ? 3 : 2)) + 2;

    public int StemWidth => Family == ModelFamily.ImageNet ? 64 : 16;

    public IReadOnlyList<int> StageWidths => Family == ModelFamily.ImageNet ? [64, 128, 256, 512] : [16, 32, 64];

    public int NativeInputSize => Family == ModelFamily.ImageNet ? 224 : 32;

    public int DefaultNumClasses => Family == ModelFamily.ImageNet ? 1000 : 10;

    public ShortcutOption DefaultShortcut => Family == ModelFamily.ImageNet ? ShortcutOption.B : ShortcutOption.A;

    /// <summary>Product of the strides before global pooling: the smallest input whose last stage is at least 1x1.</summary>
    public int TotalStride => Family == ModelFamily.ImageNet ? 32 : 4;

    public int Expansion => Block == BlockKind.Bottleneck ? 4 : 1;
}
