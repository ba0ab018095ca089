namespace Plateau.Models.Architecture;

/// <summary>How a residual block's shortcut is built (He et al. 2016, section 3.3 and table 3).</summary>
public enum ShortcutOption
{
    /// <summary>Identity everywhere; where dimensions grow, subsample and zero-pad the extra channels (no parameters).</summary>
    A,

    /// <summary>Identity where dimensions match; a 1x1 projection + BN (<c>downsample</c>) where they change.</summary>
    B,

    /// <summary>A 1x1 projection + BN on every shortcut.</summary>
    C,
}
