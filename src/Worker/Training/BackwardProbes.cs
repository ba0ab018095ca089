using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// Lets gradient buckets start their all-reduce while backward still runs (DDP's overlap), on TorchSharp 0.107,
/// which has no per-tensor gradient hook (<c>Tensor.register_hook</c>) and no module backward hooks — only forward
/// hooks and custom autograd functions. So: a forward pre-hook on each module that owns a bucket's last-produced
/// gradient passes the module's input through <see cref="Probe"/>, an identity autograd function. Autograd runs
/// the probe's backward once the module's own backward has delivered the gradient of its input, i.e. after the
/// node that also produced the module's parameter gradients; the probe then asks <see cref="GradientBuckets"/> to
/// pack whatever is final and launch the buckets that are complete (<see cref="GradientBuckets.PackFinished"/>,
/// which decides "final" by the gradient being defined, not by the probe's timing).
/// </summary>
/// <remarks>
/// The probes are armed only inside a training step (<see cref="Arm"/>): evaluation, a no-grad forward and an input
/// that needs no gradient (the image at the stem) pass through untouched. The probe returns its input as a view
/// (custom autograd functions do), so a probed module must not modify its input in place; convolutions, batch norms
/// and linear layers do not. TorchSharp's node keeps an uninitialised <c>empty_like</c> of each probe's output for
/// the life of the graph, which is why only bucket boundaries are probed (about one module per 25 MB of gradients),
/// not every layer.
/// </remarks>
public sealed class BackwardProbes : IDisposable
{
    private readonly List<nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover> _hooks = [];
    private readonly GradientBuckets _buckets;
    private bool _armed;

    public BackwardProbes(nn.Module model, IReadOnlyList<(string Name, Tensor Parameter)> parameters, GradientBuckets buckets)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(buckets);
        _buckets = buckets;
        var owners = new Dictionary<string, (string Name, nn.Module Module)>(StringComparer.Ordinal);
        foreach (var (name, module) in model.named_modules())
        {
            foreach (var (parameterName, _) in module.named_parameters(recurse: false))
            {
                owners[name.Length == 0 ? parameterName : $"{name}.{parameterName}"] = (name, module);
            }
        }

        var probed = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        foreach (var index in buckets.LastParameterOfBucket)
        {
            // A module that takes something other than one tensor cannot be probed; its bucket then waits for the
            // next probe or for the end of backward, which is slower but as exact.
            if (owners.TryGetValue(parameters[index].Name, out var found) && found.Module is nn.Module<Tensor, Tensor> owner && probed.Add(owner))
            {
                _hooks.Add(owner.register_forward_pre_hook(Forward));
                ProbedModules.Add(found.Name);
            }
        }
    }

    /// <summary>The probed modules' names (state_dict prefixes), for tests and logs.</summary>
    public IList<string> ProbedModules { get; } = [];

    /// <summary>Probes take effect between this and the returned scope's disposal (a training step's forward and backward).</summary>
    public IDisposable Arm()
    {
        _armed = true;
        return new Disarm(this);
    }

    public void Dispose()
    {
        foreach (var hook in _hooks)
        {
            hook.remove();
        }

        _hooks.Clear();
    }

    private Tensor Forward(nn.Module<Tensor, Tensor> module, Tensor input) =>
        _armed && input.requires_grad && is_grad_enabled() ? Probe.apply(input, _buckets) : null!;

    private sealed class Disarm(BackwardProbes probes) : IDisposable
    {
        public void Dispose() => probes._armed = false;
    }

    /// <summary>Identity in forward; in backward, packs the gradients that are final and passes the gradient on unchanged.</summary>
    internal sealed class Probe : autograd.SingleTensorFunction<Probe>
    {
        private const string Key = "buckets";

        public override string Name => nameof(BackwardProbes) + "." + nameof(Probe);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            ArgumentNullException.ThrowIfNull(ctx);
            ArgumentNullException.ThrowIfNull(vars);
            ctx.save_data(Key, vars[1]);
            return (Tensor)vars[0];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            ArgumentNullException.ThrowIfNull(ctx);
            ((GradientBuckets)ctx.get_data(Key)).PackFinished();
            return [grad_output, null!];
        }
    }
}
