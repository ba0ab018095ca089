namespace Plateau.Models.Architecture;

/// <summary>The shortcut one particular block ends up with, once its shortcut option is applied.</summary>
public enum ShortcutKind
{
    /// <summary>Plain network: no shortcut at all.</summary>
    None,

    /// <summary>The block's input is added unchanged.</summary>
    Identity,

    /// <summary>Option A where dimensions grow: subsample, then zero-pad the extra channels.</summary>
    ZeroPad,

    /// <summary>1x1 convolution + BN (<c>downsample.0</c>, <c>downsample.1</c>).</summary>
    Projection,
}
