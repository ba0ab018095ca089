using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// Where this rank stood after the last step it completed, and the model's buffers (BN running statistics)
/// as that step left them. A step that fails in its all-reduce has not touched the weights or the momentum,
/// but its forward pass has already moved the running statistics: <see cref="PutBackBuffers"/> undoes that
/// before the state is kept, so the kept copy is exactly the job's state after <see cref="Position"/>.
/// After an epoch's last step the position is that epoch's end (its evaluation and report may still be
/// missing: a generation resumed there trains no step and evaluates) until the job hands out the next
/// epoch's plan, which closes the epoch; then it is the next epoch's start.
/// </summary>
public sealed class LastCompletedStep : IDisposable
{
    private readonly List<(Tensor Live, Tensor Copy)> _buffers;

    public LastCompletedStep(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = no_grad();
        _buffers = [.. model.named_buffers().Select(b => (b.buffer, b.buffer.detach().clone()))];
    }

    /// <summary>Where the last completed step left training; null until this generation completed one.</summary>
    public CheckpointPosition? Position { get; private set; }

    public void Record(CheckpointPosition position)
    {
        ArgumentNullException.ThrowIfNull(position);
        using var noGrad = no_grad();
        foreach (var (live, copy) in _buffers)
        {
            copy.copy_(live);
        }

        Position = position;
    }

    /// <summary>Puts the buffers back as the last recorded step left them.</summary>
    public void PutBackBuffers()
    {
        using var noGrad = no_grad();
        foreach (var (live, copy) in _buffers)
        {
            live.copy_(copy);
        }
    }

    public void Dispose()
    {
        foreach (var (_, copy) in _buffers)
        {
            copy.Dispose();
        }

        _buffers.Clear();
    }
}
