using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Plateau.Models.Layers;

/// <summary>
/// Shortcut option A where dimensions grow: subsample by the stride, then append zero channels. It has
/// no parameters, so it adds nothing to the state dict.
/// </summary>
public sealed class ZeroPadShortcut : nn.Module<Tensor, Tensor>
{
    private readonly long _stride;
    private readonly long _extraChannels;

    public ZeroPadShortcut(long inChannels, long outChannels, long stride) : base(nameof(ZeroPadShortcut))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, inChannels);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        _stride = stride;
        _extraChannels = outChannels - inChannels;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var subsampled = _stride == 1
            ? input.alias()
            : input[TensorIndex.Colon, TensorIndex.Colon,
                TensorIndex.Slice(null, null, _stride), TensorIndex.Slice(null, null, _stride)];
        // F.pad lists dimensions last first: (left, right, top, bottom, front, back).
        return F.pad(subsampled, [0, 0, 0, 0, 0, _extraChannels]);
    }
}
