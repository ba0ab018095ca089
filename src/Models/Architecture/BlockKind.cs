namespace Plateau.Models.Architecture;

/// <summary>The residual block of a network.</summary>
public enum BlockKind
{
    /// <summary>Two 3x3 convolutions (expansion 1).</summary>
    Basic,

    /// <summary>1x1 reduce, 3x3, 1x1 expand (expansion 4).</summary>
    Bottleneck,
}
