namespace Plateau.Models.Architecture;

/// <summary>
/// What a caller may change about a registered network. Null means "the variant's default" (1000 or 10
/// classes, 224 or 32 pixels, shortcut B or A). the model registry rejects options the
/// variant cannot honour with a message naming the setting.
/// </summary>
public sealed record ModelOptions
{
    public static ModelOptions Default { get; } = new();

    /// <summary>Width of the final fully connected layer.</summary>
    public int? NumClasses { get; init; }

    /// <summary>Side of the square input images the network is described (and FLOP-counted) at.</summary>
    public int? InputSize { get; init; }

    /// <summary>Channels of the input images.</summary>
    public int InputChannels { get; init; } = 3;

    /// <summary>Shortcut option A, B or C; residual networks only.</summary>
    public ShortcutOption? Shortcut { get; init; }

    /// <summary>Stride placement in down-sampling bottlenecks (v1.5 by default); bottleneck networks only.</summary>
    public BottleneckStride? BottleneckStride { get; init; }

    /// <summary>Initialise the last BN gamma of every residual branch to zero, so each block starts as identity.</summary>
    public bool ZeroInitResidual { get; init; }

    /// <summary>SE switches; only for <c>se_</c> networks (null gives them the defaults).</summary>
    public SqueezeExcitationOptions? SqueezeExcitation { get; init; }
}
