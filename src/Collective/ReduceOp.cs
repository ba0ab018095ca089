namespace Plateau.Collective;

/// <summary>How <see cref="CollectiveGroup.AllReduceAsync"/> combines the ranks' buffers.</summary>
public enum ReduceOp
{
    /// <summary>Element-wise sum over all ranks.</summary>
    Sum = 0,

    /// <summary>Element-wise sum divided by the world size (computed once by each segment's owner).</summary>
    Average = 1,
}
