using Plateau.Models.Layers;
using Plateau.Models.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plateau.Models.ResNets;

/// <summary>
/// 1x1 reduce, 3x3, 1x1 expand (torchvision's <c>Bottleneck</c>, expansion 4). The stride of a
/// down-sampling block sits on the 3x3 (v1.5) or on the first 1x1 (the paper's v1).
/// </summary>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    // Field names are the state_dict keys; their order is torchvision's / timm's key order.
    private readonly Conv1x1 conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv1x1 conv3;
    private readonly BatchNorm2d bn3;
    private readonly nn.Module<Tensor, Tensor>? se;
    private readonly nn.Module<Tensor, Tensor>? downsample;
    private readonly ShortcutKind _shortcut;

    public Bottleneck(BlockPlan plan, AttentionFactory? attention = null) : base(nameof(Bottleneck))
    {
        ArgumentNullException.ThrowIfNull(plan);
        conv1 = new Conv1x1(plan.InChannels, plan.Width, plan.StrideOnFirstConv ? plan.Stride : 1);
        bn1 = nn.BatchNorm2d(plan.Width);
        conv2 = nn.Conv2d(plan.Width, plan.Width, 3, stride: plan.StrideOnFirstConv ? 1 : plan.Stride, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(plan.Width);
        conv3 = new Conv1x1(plan.Width, plan.OutChannels);
        bn3 = nn.BatchNorm2d(plan.OutChannels);
        se = attention?.Invoke(plan.OutChannels);
        downsample = BlockParts.Shortcut(plan);
        _shortcut = plan.Shortcut;
        RegisterComponents();
    }

    /// <summary>The last BN of the residual branch (zero-initialised on request).</summary>
    internal BatchNorm2d LastNorm => bn3;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = bn1.call(conv1.call(input)).relu_();
        x = bn2.call(conv2.call(x)).relu_();
        x = bn3.call(conv3.call(x));
        if (se is not null)
        {
            x = se.call(x);
        }
        return BlockParts.Merge(x, input, _shortcut, downsample).MoveToOuterDisposeScope();
    }
}
