using Plateau.Models.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plateau.Models.ResNets;

/// <summary>Two 3x3 convolutions (torchvision's <c>BasicBlock</c>); the stride sits on the first.</summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    // Field names are the state_dict keys; their order is torchvision's / timm's key order.
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly nn.Module<Tensor, Tensor>? se;
    private readonly nn.Module<Tensor, Tensor>? downsample;
    private readonly ShortcutKind _shortcut;

    public BasicBlock(BlockPlan plan, AttentionFactory? attention = null) : base(nameof(BasicBlock))
    {
        ArgumentNullException.ThrowIfNull(plan);
        conv1 = nn.Conv2d(plan.InChannels, plan.Width, 3, stride: plan.Stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(plan.Width);
        conv2 = nn.Conv2d(plan.Width, plan.OutChannels, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(plan.OutChannels);
        se = attention?.Invoke(plan.OutChannels);
        downsample = BlockParts.Shortcut(plan);
        _shortcut = plan.Shortcut;
        RegisterComponents();
    }

    /// <summary>The last BN of the residual branch (zero-initialised on request).</summary>
    internal BatchNorm2d LastNorm => bn2;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = bn1.call(conv1.call(input)).relu_();
        x = bn2.call(conv2.call(x));
        if (se is not null)
        {
            x = se.call(x);
        }
        return BlockParts.Merge(x, input, _shortcut, downsample).MoveToOuterDisposeScope();
    }
}
