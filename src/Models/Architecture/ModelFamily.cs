namespace Plateau.Models.Architecture;

/// <summary>The two network layouts of the ResNet paper.</summary>
public enum ModelFamily
{
    /// <summary>7x7/64 stride-2 stem, max-pool, four stages (64/128/256/512), 224x224 input.</summary>
    ImageNet,

    /// <summary>3x3/16 stem, three stages (16/32/64), depth 6n+2, 32x32 input.</summary>
    Cifar,
}
