using Plateau.Models.Architecture;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plateau.Models.Layers;

/// <summary>
/// Squeeze-and-excitation (Hu et al. 2018) in timm's layout: <c>fc1</c> and <c>fc2</c> are 1x1
/// convolutions, so no reshape is needed and a no-squeeze ablation runs per position.
/// </summary>
public sealed class SqueezeExcitation : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d fc1;
    private readonly Conv2d fc2;
    private readonly SqueezeMode _squeeze;
    private readonly GateFunction _gate;

    public SqueezeExcitation(long channels, long reducedChannels, SqueezeExcitationOptions options)
        : base(nameof(SqueezeExcitation))
    {
        ArgumentNullException.ThrowIfNull(options);
        fc1 = nn.Conv2d(channels, reducedChannels, 1, bias: options.Bias);
        fc2 = nn.Conv2d(reducedChannels, channels, 1, bias: options.Bias);
        _squeeze = options.Squeeze;
        _gate = options.Gate;
        RegisterComponents();
    }

    internal IEnumerable<Conv2d> Convolutions => [fc1, fc2];

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var squeezed = _squeeze switch
        {
            SqueezeMode.Average => input.mean([2, 3], keepdim: true),
            SqueezeMode.Max => input.amax([2, 3], keepdim: true),
            _ => input,
        };
        var hidden = fc1.call(squeezed).relu_();
        var excitation = fc2.call(hidden);
        var weights = _gate switch
        {
            GateFunction.Sigmoid => excitation.sigmoid_(),
            GateFunction.Tanh => excitation.tanh_(),
            _ => excitation.relu_(),
        };
        return input.mul(weights).MoveToOuterDisposeScope();
    }
}
