namespace Plateau.Models.Architecture;

/// <summary>Which convolution of a down-sampling bottleneck block carries the stride of 2.</summary>
public enum BottleneckStride
{
    /// <summary>On the 3x3 convolution: torchvision's "ResNet v1.5" (the default).</summary>
    OnThreeByThree,

    /// <summary>On the first 1x1 convolution, as in the paper ("ResNet v1").</summary>
    OnFirstOneByOne,
}
