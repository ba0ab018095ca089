namespace Plateau.Models.Architecture;

/// <summary>The excitation's final non-linearity, which produces the channel weights (SENet table 12).</summary>
public enum GateFunction
{
    Sigmoid,
    Tanh,
    ReLU,
}
