namespace Plateau.Cli.Commands.Local;

/// <summary>What a child of <c>plateau local</c> is, which says what its death restarts.</summary>
internal enum LocalChildRole
{
    /// <summary>The coordinator: the primary silo of the run's Localhost cluster. When it dies the cluster goes with it,
    /// so it is started again together with every worker.</summary>
    Coordinator,

    /// <summary>A worker: started again alone; the job admits it at its next generation.</summary>
    Worker,
}
