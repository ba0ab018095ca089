using System.Diagnostics;

namespace Plateau.Worker.Training;

/// <summary>
/// The rank's recent pace, shared between the trainer thread (writes after each step) and the progress
/// reporter (reads every few seconds): images/s, mean loss and where step time went since the last read.
/// </summary>
public sealed class ProgressMeter
{
    private readonly Lock _lock = new();
    private long _samples;
    private double _lossSum;
    private double _dataSeconds;
    private double _allReduceSeconds;
    private double _stepSeconds;
    private double _ringWaitSeconds;
    private long _steps;
    private long _windowStart = Stopwatch.GetTimestamp();
    private double _lastLoss = double.NaN;
    private long _skippedSteps;

    public int Epoch { get; private set; }

    public long GlobalStep { get; private set; }

    public double LearningRate { get; private set; }

    /// <summary>Steps skipped since this trainer started because the averaged gradients were not finite.</summary>
    public long SkippedSteps => Interlocked.Read(ref _skippedSteps);

    public void Record(int epoch, long globalStep, double learningRate, StepOutcome outcome, TimeSpan dataWait)
    {
        lock (_lock)
        {
            Epoch = epoch;
            GlobalStep = globalStep;
            LearningRate = learningRate;
            if (outcome.Skipped)
            {
                // Its loss is not finite and its update was not applied: it would poison the mean.
                Interlocked.Increment(ref _skippedSteps);
            }
            else
            {
                _samples += outcome.Samples;
                _lossSum += outcome.LossSum;
            }

            _dataSeconds += dataWait.TotalSeconds;
            _allReduceSeconds += outcome.AllReduce.TotalSeconds;
            _stepSeconds += dataWait.TotalSeconds + outcome.Compute.TotalSeconds + outcome.AllReduce.TotalSeconds + outcome.Update.TotalSeconds;
            _ringWaitSeconds += outcome.CollectiveWait.TotalSeconds;
            _steps++;
        }
    }

    public void SetPosition(int epoch, long globalStep, double learningRate)
    {
        lock (_lock)
        {
            Epoch = epoch;
            GlobalStep = globalStep;
            LearningRate = learningRate;
        }
    }

    /// <summary>Figures since the previous snapshot, then starts a new window.</summary>
    public ProgressSnapshot Take()
    {
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            var elapsed = Stopwatch.GetElapsedTime(_windowStart, now).TotalSeconds;
            if (_samples > 0)
            {
                _lastLoss = _lossSum / _samples;
            }

            var snapshot = new ProgressSnapshot(
                Epoch, GlobalStep, LearningRate,
                elapsed > 0 ? _samples / elapsed : 0,
                _lastLoss,
                _stepSeconds > 0 ? _dataSeconds / _stepSeconds : 0,
                _stepSeconds > 0 ? _allReduceSeconds / _stepSeconds : 0,
                _steps > 0 ? Math.Max(0, _stepSeconds - _ringWaitSeconds) / _steps : 0);
            _samples = 0;
            _lossSum = 0;
            _dataSeconds = 0;
            _allReduceSeconds = 0;
            _stepSeconds = 0;
            _ringWaitSeconds = 0;
            _steps = 0;
            _windowStart = now;
            return snapshot;
        }
    }
}
