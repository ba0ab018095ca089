namespace Plateau.Collective;

/// <summary>The collective an operation frame belongs to; carried on the wire to catch ranks that disagree.</summary>
public enum CollectiveOpKind
{
    /// <summary>Ring reduce-scatter followed by ring all-gather.</summary>
    AllReduce = 1,

    /// <summary>Pipelined chain from a root rank around the ring.</summary>
    Broadcast = 2,

    /// <summary>Ring all-gather of one small block per rank.</summary>
    AllGather = 3,

    /// <summary>All-gather of empty blocks.</summary>
    Barrier = 4,
}
