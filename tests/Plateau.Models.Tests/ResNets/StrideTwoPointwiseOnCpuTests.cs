using Plateau.Models.Layers;
using Plateau.Models.Tests.Support;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.ResNets;

/// <summary>
/// Regression guard for the oneDNN crash: on AVX-512 CPUs, the backward pass of a stride-2 1x1
/// convolution dies with SIGFPE once channels reach 512 to 1024 (ResNet-50's layer3/layer4 downsample).
/// If the CPU path ever reaches that kernel again, this test process dies.
/// </summary>
public class StrideTwoPointwiseOnCpuTests
{
    [Theory]
    [InlineData("resnet50")]
    [InlineData("se_resnet50")]
    public void OneSgdStepOnCpuUpdatesTheWeights(string name)
    {
        using var model = ModelRegistry.Create(name);
        using var before = model.get_parameter("layer4.0.downsample.0.weight")!.detach().clone();

        var loss = TrainingStep.Run(model, batch: 2, size: 64, classes: 1000);

        Assert.True(float.IsFinite(loss));
        using var after = model.get_parameter("layer4.0.downsample.0.weight")!;
        Assert.False(before.allclose(after, rtol: 0, atol: 0), "the layer4 projection was not updated");
    }

    [Fact]
    public void PaperV1StrideOnTheFirstPointwiseConvolutionTrainsOnCpu()
    {
        using var model = ModelRegistry.Create("resnet50", new ModelOptions { BottleneckStride = BottleneckStride.OnFirstOneByOne });
        var loss = TrainingStep.Run(model, batch: 2, size: 64, classes: 1000);
        Assert.True(float.IsFinite(loss));
    }

    [Fact]
    public void SubsampledPointwiseConvolutionEqualsTheStridedConvolutionForwardAndBackward()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var conv = new Conv1x1(8, 16, stride: 2);
        var input = randn(2, 8, 7, 7).requires_grad_();
        var output = conv.call(input);
        output.sum().backward();
        var gradInput = input.grad!.clone();
        var gradWeight = conv.Weight.grad!.clone();

        var input2 = input.detach().clone().requires_grad_();
        var weight2 = conv.Weight.detach().clone().requires_grad_();
        var reference = nn.functional.conv2d(input2, weight2, strides: [2, 2]);
        reference.sum().backward();

        Assert.Equal(reference.shape, output.shape);
        // The two paths are the same sums in a different order (a 1x1 matmul on the subsampled input against
        // libtorch's strided convolution, each split across however many threads it gets), so float32 rounding
        // may differ in the last bits: compare at float32 accumulation precision and print the largest difference.
        AssertClose(output, reference, "outputs");
        AssertClose(gradInput, input2.grad!, "input gradients");
        AssertClose(gradWeight, weight2.grad!, "weight gradients");
    }

    private static void AssertClose(Tensor actual, Tensor expected, string what)
    {
        var largest = (actual - expected).abs().max().item<float>();
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5), $"{what} differ by up to {largest}");
    }
}
