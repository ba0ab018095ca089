using Plateau.Models.Layers;
using Plateau.Models.Architecture;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plateau.Models.ResNets;

/// <summary>
/// The one ResNet builder: ImageNet and CIFAR layouts, residual or plain, basic or bottleneck blocks,
/// shortcut options A/B/C, optional SE, all driven by a resolved <see cref="ResNetArchitecture"/>.
/// Submodule names are torchvision's state_dict keys (timm's for SE), so weights move to and from PyTorch.
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    // Field names are the state_dict keys; their order is torchvision's key order. CIFAR networks
    // leave maxpool and layer4 null, which RegisterComponents skips.
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d? maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential? layer4;
    private readonly Linear fc;

    /// <summary>Builds the network of <paramref name="architecture"/> on the CPU with He initialisation.</summary>
    public ResNet(ResNetArchitecture architecture) : base(architecture?.Name ?? nameof(ResNet))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        Architecture = architecture;
        var variant = architecture.Variant;
        if (variant.Family == ModelFamily.ImageNet)
        {
            conv1 = nn.Conv2d(architecture.InputChannels, variant.StemWidth, 7, stride: 2, padding: 3, bias: false);
            maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        }
        else
        {
            conv1 = nn.Conv2d(architecture.InputChannels, variant.StemWidth, 3, padding: 1, bias: false);
        }
        bn1 = nn.BatchNorm2d(variant.StemWidth);

        var stages = architecture.Blocks.GroupBy(b => b.Stage).Select(g => BuildStage(architecture, g)).ToList();
        layer1 = stages[0];
        layer2 = stages[1];
        layer3 = stages[2];
        layer4 = stages.Count > 3 ? stages[3] : null;
        fc = nn.Linear(architecture.FeatureChannels, architecture.NumClasses);
        RegisterComponents();
        Initialise();
    }

    /// <summary>What this network is: the variant, its resolved options and every block.</summary>
    public ResNetArchitecture Architecture { get; }

    public override Tensor forward(Tensor input)
    {
        // One scope per forward: every intermediate handle is released here; autograd keeps what it needs.
        using var scope = NewDisposeScope();
        var x = bn1.call(conv1.call(input)).relu_();
        if (maxpool is not null)
        {
            x = maxpool.call(x);
        }
        x = layer1.call(x);
        x = layer2.call(x);
        x = layer3.call(x);
        if (layer4 is not null)
        {
            x = layer4.call(x);
        }
        var features = x.mean([2, 3]);
        return fc.call(features).MoveToOuterDisposeScope();
    }

    private static Sequential BuildStage(ResNetArchitecture architecture, IEnumerable<BlockPlan> blocks)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        foreach (var plan in blocks)
        {
            AttentionFactory? attention = null;
            if (plan.SeChannels is { } hidden && architecture.SqueezeExcitation is { } se)
            {
                attention = channels => new SqueezeExcitation(channels, hidden, se);
            }
            nn.Module<Tensor, Tensor> block = architecture.Variant.Block == BlockKind.Bottleneck
                ? new Bottleneck(plan, attention)
                : new BasicBlock(plan, attention);
            modules.Add((plan.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), block));
        }
        return nn.Sequential(modules);
    }

    /// <summary>He (fan-out, ReLU) for every convolution, BN to identity, optional zero gamma ending each residual branch.</summary>
    private void Initialise()
    {
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
                    if (conv.bias is { } bias)
                    {
                        nn.init.zeros_(bias);
                    }
                    break;
                case Conv1x1 pointwise:
                    nn.init.kaiming_normal_(pointwise.Weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
                    break;
                case BatchNorm2d bn:
                    nn.init.ones_(bn.weight);
                    nn.init.zeros_(bn.bias!);
                    break;
            }
        }
        if (Architecture.ZeroInitResidual)
        {
            foreach (var module in modules())
            {
                var last = module switch
                {
                    BasicBlock basic => basic.LastNorm,
                    Bottleneck bottleneck => bottleneck.LastNorm,
                    _ => null,
                };
                if (last is not null)
                {
                    nn.init.zeros_(last.weight);
                }
            }
        }
    }
}
