namespace Plateau.Models.Architecture;

/// <summary>How an SE block summarises each channel before the excitation (SENet table 11).</summary>
public enum SqueezeMode
{
    /// <summary>Global average pooling (the paper's choice).</summary>
    Average,

    /// <summary>Global max pooling.</summary>
    Max,

    /// <summary>No squeeze: the excitation runs on every position of the un-pooled map.</summary>
    None,
}
