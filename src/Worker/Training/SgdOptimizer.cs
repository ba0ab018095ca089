using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// torch.optim.SGD, step for step (momentum, dampening 0, weight decay added to the gradient, Nesterov),
/// with the rate passed in on every step: the coordinator's epoch plan owns it, never the optimizer.
/// Momentum buffers are named after their parameters so checkpoints hold them as plain tensors. They
/// start at zero, which is PyTorch's first step exactly (buf = μ·0 + d = d), so every rank and every
/// checkpoint always holds the full set.
/// </summary>
public sealed class SgdOptimizer : IDisposable
{
    private readonly (string Name, Tensor Parameter)[] _parameters;
    private readonly Tensor?[] _momentum;

    public SgdOptimizer(IEnumerable<(string Name, Tensor Parameter)> parameters, double momentum, double weightDecay, bool nesterov)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegative(momentum);
        ArgumentOutOfRangeException.ThrowIfNegative(weightDecay);
        if (nesterov && momentum <= 0)
        {
            throw new ArgumentException("Nesterov momentum requires momentum > 0", nameof(nesterov));
        }

        _parameters = [.. parameters];
        _momentum = new Tensor?[_parameters.Length];
        if (momentum != 0)
        {
            using var noGrad = no_grad();
            for (var i = 0; i < _parameters.Length; i++)
            {
                if (_parameters[i].Parameter.requires_grad)
                {
                    _momentum[i] = zeros_like(_parameters[i].Parameter).DetachFromDisposeScope();
                }
            }
        }

        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public double Momentum { get; }

    public double WeightDecay { get; }

    public bool Nesterov { get; }

    /// <summary>Optimizer steps taken (restored from checkpoints).</summary>
    public long Steps { get; set; }

    /// <summary>p ← p − lr · d, d = g + wd·p, with momentum buf ← μ·buf + d (buf = d on the first step) and
    /// d = buf, or d + μ·buf with Nesterov — exactly PyTorch's <c>_single_tensor_sgd</c>.</summary>
    public void Step(double learningRate)
    {
        if (!double.IsFinite(learningRate) || learningRate < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "the learning rate must be finite and ≥ 0");
        }

        using var noGrad = no_grad();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i].Parameter;
            using var grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            using var scope = NewDisposeScope();
            var d = WeightDecay != 0 ? grad.add(parameter, alpha: WeightDecay) : grad;
            if (Momentum != 0)
            {
                var buffer = _momentum[i]!;
                buffer.mul_(Momentum).add_(d);

                d = Nesterov ? d.add(buffer, alpha: Momentum) : buffer;
            }

            parameter.add_(d, alpha: -learningRate);
        }

        Steps++;
    }

    /// <summary>Momentum buffers by parameter name (none without momentum).</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> MomentumBuffers()
    {
        var buffers = new List<KeyValuePair<string, Tensor>>();
        for (var i = 0; i < _parameters.Length; i++)
        {
            if (_momentum[i] is { } buffer)
            {
                buffers.Add(new(_parameters[i].Name, buffer));
            }
        }

        return buffers;
    }

    /// <summary>Replaces the momentum buffers (from a checkpoint or rank 0's broadcast); unknown names are refused.</summary>
    public void LoadMomentumBuffers(IEnumerable<KeyValuePair<string, Tensor>> buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        var index = _parameters.Select((p, i) => (p.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, source) in buffers)
        {
            if (!index.TryGetValue(name, out var i))
            {
                throw new ArgumentException($"momentum buffer '{name}' names no parameter of the model", nameof(buffers));
            }

            var parameter = _parameters[i].Parameter;
            if (!source.shape.SequenceEqual(parameter.shape))
            {
                throw new ArgumentException($"momentum buffer '{name}' has shape [{string.Join(", ", source.shape)}], the parameter [{string.Join(", ", parameter.shape)}]", nameof(buffers));
            }

            _momentum[i]?.Dispose();
            _momentum[i] = source.to(parameter.dtype, parameter.device).clone().DetachFromDisposeScope();
        }
    }

    public void Dispose()
    {
        foreach (var buffer in _momentum)
        {
            buffer?.Dispose();
        }

        Array.Clear(_momentum);
    }
}
