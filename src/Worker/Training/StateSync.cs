using Plateau.Collective;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// Start-of-generation agreement: the ranks check they built the same parameter list (names, shapes,
/// order), then the source rank's weights — rank 0's, fresh from the seed or restored from a checkpoint, or
/// a survivor's kept in memory — and BN running statistics (and momentum buffers when resuming) are
/// broadcast so every rank starts bit-identical.
/// </summary>
public static class StateSync
{
    public static void VerifyLayout(DataParallelStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var layout = GradientBuckets.Layout(step.Model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)));
        layout.VerifyAcrossRanksAsync(step.Group, cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>Broadcasts every floating-point parameter and buffer of the model (and, with
    /// <paramref name="includeMomentum"/>, the momentum buffers) from <paramref name="root"/>, in state-dict order.</summary>
    public static void BroadcastFrom(DataParallelStep step, int root, bool includeMomentum, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var tensors = step.Model.state_dict().Where(kv => kv.Value.is_floating_point()).Select(kv => kv.Value).ToList();
        if (includeMomentum)
        {
            tensors.AddRange(step.Optimizer.MomentumBuffers().Select(kv => kv.Value));
        }

        var total = tensors.Sum(t => t.numel());
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)total), pinned: true);
        if (step.Group.Rank == root)
        {
            Copy(tensors, buffer, toBuffer: true);
        }

        step.Group.BroadcastAsync(buffer, root, cancellationToken).GetAwaiter().GetResult();
        if (step.Group.Rank != root)
        {
            Copy(tensors, buffer, toBuffer: false);
        }
    }

    private static void Copy(List<Tensor> tensors, float[] buffer, bool toBuffer)
    {
        using var noGrad = no_grad();
        var offset = 0;
        foreach (var tensor in tensors)
        {
            var length = (int)tensor.numel();
            var span = buffer.AsSpan(offset, length);
            using var host = empty(tensor.shape, ScalarType.Float32);
            if (toBuffer)
            {
                host.copy_(tensor);
                host.data<float>().CopyTo(span);
            }
            else
            {
                host.data<float>().CopyFrom(span);
                tensor.copy_(host);
            }

            offset += length;
        }
    }
}
