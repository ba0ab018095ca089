using Plateau.Models.Layers;
using Plateau.Models.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plateau.Models.ResNets;

/// <summary>Pieces the two block types share: the shortcut and the residual addition.</summary>
internal static class BlockParts
{
    /// <summary>The module on the shortcut path (torchvision's <c>downsample</c>), or null for identity / none.</summary>
    public static nn.Module<Tensor, Tensor>? Shortcut(BlockPlan plan) => plan.Shortcut switch
    {
        ShortcutKind.Projection => nn.Sequential(
            ("0", new Conv1x1(plan.InChannels, plan.OutChannels, plan.Stride)),
            ("1", nn.BatchNorm2d(plan.OutChannels))),
        ShortcutKind.ZeroPad => new ZeroPadShortcut(plan.InChannels, plan.OutChannels, plan.Stride),
        _ => null,
    };

    /// <summary>Adds the shortcut (unless the block is plain) and applies the final ReLU, in place on <paramref name="branch"/>.</summary>
    public static Tensor Merge(Tensor branch, Tensor input, ShortcutKind shortcut, nn.Module<Tensor, Tensor>? downsample)
    {
        switch (shortcut)
        {
            case ShortcutKind.None:
                break;
            case ShortcutKind.Identity:
                branch.add_(input);
                break;
            default:
                using (var projected = downsample!.call(input))
                {
                    branch.add_(projected);
                }
                break;
        }
        return branch.relu_();
    }
}
