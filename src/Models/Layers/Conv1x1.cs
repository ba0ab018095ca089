using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Plateau.Models.Layers;

/// <summary>
/// A bias-free 1x1 convolution whose only parameter is <c>weight</c> [out, in, 1, 1], exactly like
/// PyTorch's <c>nn.Conv2d(in, out, 1, stride, bias=False)</c>.
/// </summary>
/// <remarks>
/// On CPU a strided 1x1 convolution runs as <c>x[:, :, ::s, ::s]</c> followed by a stride-1 convolution with
/// the same weight: the same maths (a 1x1 kernel without padding only reads every s-th pixel), but it never
/// reaches oneDNN's stride-2 1x1 backward kernel, which dies with SIGFPE on AVX-512 CPUs once channels
/// reach 512 to 1024. CUDA keeps the strided convolution.
/// </remarks>
public sealed class Conv1x1 : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long[] _strides;
    private readonly long _stride;

    public Conv1x1(long inChannels, long outChannels, long stride = 1) : base(nameof(Conv1x1))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        weight = new Parameter(empty(outChannels, inChannels, 1, 1));
        // nn.Conv2d's own initialisation, so a layer built alone never computes on uninitialised memory;
        // the model builder re-initialises it afterwards.
        using (no_grad())
        {
            nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        }
        _stride = stride;
        _strides = [stride, stride];
        RegisterComponents();
    }

    public long InChannels => weight.shape[1];

    public long OutChannels => weight.shape[0];

    public long Stride => _stride;

    public Parameter Weight => weight;

    public override Tensor forward(Tensor input)
    {
        if (_stride == 1)
        {
            return F.conv2d(input, weight);
        }
        if (input.device_type == DeviceType.CPU)
        {
            using var subsampled = input[TensorIndex.Colon, TensorIndex.Colon,
                TensorIndex.Slice(null, null, _stride), TensorIndex.Slice(null, null, _stride)];
            return F.conv2d(subsampled, weight);
        }
        return F.conv2d(input, weight, strides: _strides);
    }
}
