using Microsoft.Extensions.Logging;
using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// What the plain classes of one job share: its id, its persisted state, the clock and the log, and the
/// orders for members that follow from a decision. The grain delivers those orders only after the state
/// they follow from is persisted (invariant 1), so the classes themselves never talk to a worker.
/// </summary>
public sealed class JobContext(string jobId, Func<JobState> state, TimeProvider time, ILogger logger)
{
    private readonly List<MemberOrder> _orders = [];

    public string JobId { get; } = jobId;

    public JobState State => state();

    public DateTimeOffset Now => time.GetUtcNow();

    public ILogger Logger { get; } = logger;

    /// <summary>Queues an order for after the next persist.</summary>
    public void Order(MemberOrder order) => _orders.Add(order);

    /// <summary>The orders queued since the last call, oldest first.</summary>
    public IReadOnlyList<MemberOrder> TakeOrders()
    {
        var orders = _orders.ToList();
        _orders.Clear();
        return orders;
    }

    public void EnsureExists()
    {
        if (!State.Exists)
        {
            throw new JobNotFoundException(JobId);
        }
    }

    /// <summary>Refuses messages of any generation but the formed one.</summary>
    public void EnsureFormed(long generation, string operation)
    {
        if (State.FormedGeneration == 0 || generation != State.FormedGeneration)
        {
            throw new StaleGenerationException(JobId, generation, State.Generation, operation);
        }
    }

    public void EnsureRank(int rank)
    {
        if (rank < 0 || rank >= State.Members.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"generation {State.FormedGeneration} has ranks 0..{State.Members.Count - 1}");
        }
    }
}
