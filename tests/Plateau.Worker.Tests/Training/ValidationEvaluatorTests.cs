using Plateau.Contracts.Specs;
using Plateau.Data.Datasets;
using Plateau.Data.Loading;
using Plateau.Data.Metrics;
using Plateau.Data.Synthetic;
using Plateau.Data.Transforms;
using Plateau.Models.Zoo;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

/// <summary>Issue 15: the papers' evaluation modes, each image scored once across ranks.</summary>
public sealed class ValidationEvaluatorTests : IDisposable
{
    private const int ValidationImages = 11;
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("plateau-eval-");
    private readonly CifarBinaryDataset _validation;
    private readonly DataLoaderOptions _loader = new() { DecodeThreads = 1, Normalisation = Normalisation.Cifar10 };

    public ValidationEvaluatorTests()
    {
        SyntheticDatasetWriter.WriteCifar(_folder.FullName, 5, ValidationImages, seed: 3);
        _validation = CifarBinaryDataset.Open(_folder.FullName, DatasetSplit.Validation, 0);
    }

    public void Dispose()
    {
        _validation.Dispose();
        _folder.Delete(recursive: true);
    }

    private ClassificationCounts Evaluate(nn.Module<Tensor, Tensor> model, EvaluationMode mode, int rank = 0, int worldSize = 1, int batchSize = 40) =>
        ValidationEvaluator.Evaluate(model, _validation, ValidationEvaluator.Passes(new IdentityTransform(32, 32), mode), Normalisation.Cifar10,
            CPU, rank, worldSize, batchSize, seed: 1, epoch: 0, _loader, CancellationToken.None);

    [Fact]
    public async Task TenCropEqualsTheHandComputedAverageOfTheTenViewsSoftmaxScores()
    {
        using var model = TinyNets.BatchNormFree(seed: 5);
        var counts = Evaluate(model, EvaluationMode.TenCrop, batchSize: 30);

        // By hand: the plain images, padded by 4 black pixels, cut at the corners and centre and mirrored with torch ops.
        var (correct1, correct5, loss) = (0L, 0L, 0.0);
        await using var plain = new DataLoader(_validation, new IdentityTransform(32, 32), ValidationImages, seed: 1, _loader);
        await foreach (var batch in plain.ReadBatches(0, [Enumerable.Range(0, ValidationImages).ToArray()]))
        {
            using var scope = NewDisposeScope();
            // Black padding, as in training (torchvision RandomCrop(32, padding=4) pads the pixels, then normalises).
            var pixels = nn.functional.pad(batch.Images.to_type(ScalarType.Float32), [4, 4, 4, 4]);
            var mean = tensor(Normalisation.Cifar10.Mean).view(1, 3, 1, 1);
            var std = tensor(Normalisation.Cifar10.Std).view(1, 3, 1, 1);
            var padded = pixels.div(255f).sub(mean).div(std);
            var labels = batch.Labels.data<long>().ToArray();
            model.eval();
            using var noGrad = no_grad();
            for (var i = 0; i < batch.Count; i++)
            {
                var sum = new double[10];
                foreach (var (x, y) in new[] { (0, 0), (8, 0), (0, 8), (8, 8), (4, 4) })
                {
                    var crop = padded[i].narrow(1, y, 32).narrow(2, x, 32);
                    foreach (var view in new[] { crop, crop.flip(2) })
                    {
                        var logits = model.call(view.unsqueeze(0))[0].to_type(ScalarType.Float64).data<double>().ToArray();
                        var max = logits.Max();
                        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
                        for (var c = 0; c < 10; c++)
                        {
                            sum[c] += exp[c] / exp.Sum() / 10;
                        }
                    }
                }

                var ranked = Enumerable.Range(0, 10).OrderByDescending(c => sum[c]).ToArray();
                correct1 += ranked[0] == labels[i] ? 1 : 0;
                correct5 += ranked.Take(5).Contains((int)labels[i]) ? 1 : 0;
                loss -= Math.Log(sum[labels[i]]);
            }

            model.train();
        }

        Assert.Equal(ValidationImages, counts.Total);
        Assert.Equal(correct1, counts.Correct1);
        Assert.Equal(correct5, counts.Correct5);
        Assert.Equal(loss, counts.LossSum, 1e-9 * ValidationImages);
    }

    [Theory]
    [InlineData(EvaluationMode.CenterCrop)]
    [InlineData(EvaluationMode.TenCrop)]
    [InlineData(EvaluationMode.MultiScale)]
    public void EveryImageIsCountedOnceAndRanksSumExactlyForWorldSizesOneToThree(EvaluationMode mode)
    {
        using var model = TinyNets.BatchNormFree(seed: 9);
        var alone = Evaluate(model, mode, batchSize: 20);
        Assert.Equal(ValidationImages, alone.Total);
        for (var world = 2; world <= 3; world++)
        {
            var parts = Enumerable.Range(0, world).Select(rank => Evaluate(model, mode, rank, world, batchSize: 20)).ToList();
            var sum = ClassificationCounts.Sum(parts);
            Assert.Equal(ValidationImages, sum.Total);
            Assert.Equal(alone.Correct1, sum.Correct1);
            Assert.Equal(alone.Correct5, sum.Correct5);
            Assert.Equal(alone.LossSum, sum.LossSum, 1e-4);
        }
    }

    [Fact]
    public async Task MultiScaleAveragesTheSoftmaxOfEveryScaleAndItsMirror()
    {
        using var model = TinyNets.BatchNormFree(seed: 2);
        var counts = Evaluate(model, EvaluationMode.MultiScale, batchSize: 1000);

        // The five scales' square views (the synthetic images are square: the whole image) and their mirrors, by hand.
        var average = zeros([ValidationImages, 10], ScalarType.Float64);
        var labels = zeros([ValidationImages], ScalarType.Int64);
        model.eval();
        foreach (var side in new[] { 32, 37, 55, 69, 91 })
        {
            await using var loader = new DataLoader(_validation, new ResizeCenterCropTransform(side, side), ValidationImages, seed: 1, _loader);
            await foreach (var batch in loader.ReadBatches(0, [Enumerable.Range(0, ValidationImages).ToArray()]))
            {
                using var noGrad = no_grad();
                var images = batch.ToDeviceNormalised(CPU, Normalisation.Cifar10);
                Assert.Equal(new long[] { ValidationImages, 3, side, side }, images.shape);
                foreach (var view in new[] { images, images.flip(3) })
                {
                    average.add_(model.call(view).to_type(ScalarType.Float64).softmax(1).div(10));
                }

                labels = batch.Labels.clone();
            }
        }

        model.train();
        var expected = ClassificationCounts.FromProbabilities(average, labels);
        Assert.Equal(expected.Total, counts.Total);
        Assert.Equal(expected.Correct1, counts.Correct1);
        Assert.Equal(expected.Correct5, counts.Correct5);
        Assert.Equal(expected.LossSum, counts.LossSum, 1e-6);
    }

    /// <summary>
    /// Non-square images (and one square) whose multi-scale views at {32, 37, 55, 69, 91} differ in shape, except that
    /// 30x20 and 60x40 have the same view shapes at every scale (scored in one batch from their own pixels) and 31x20 is
    /// one pixel off them (49x32 at 32, not 48x32: a group of its own).
    /// </summary>
    private static readonly (int Width, int Height)[] MixedSizes = [(30, 20), (20, 26), (24, 24), (45, 30), (33, 32), (60, 40), (31, 20)];

    private static ClassificationCounts EvaluateMultiScale(nn.Module<Tensor, Tensor> model, IImageDataset images, int rank, int worldSize, int batchSize) =>
        ValidationEvaluator.Evaluate(model, images, ValidationEvaluator.Passes(new IdentityTransform(32, 32), EvaluationMode.MultiScale), Normalisation.Cifar10,
            CPU, rank, worldSize, batchSize, seed: 1, epoch: 0, new DataLoaderOptions { DecodeThreads = 1, Normalisation = Normalisation.Cifar10 }, CancellationToken.None);

    [Theory]
    [InlineData(1000, false)] // every image in one sample batch
    [InlineData(20, false)] // two images per sample batch
    [InlineData(20, true)] // batch norm: the square image after two non-square ones is still scored in eval mode
    public async Task MultiScaleScoresANonSquareImageWholeAtEveryScaleWithItsShorterSideResized(int batchSize, bool batchNorm)
    {
        using var images = new RawImages(MixedSizes, seed: 4);
        using var model = batchNorm
            ? ModelRegistry.Create("resnet20_cifar", new Plateau.Models.Architecture.ModelOptions { NumClasses = 10 })
            : TinyNets.BatchNormFree(seed: 6);
        var counts = EvaluateMultiScale(model, images, rank: 0, worldSize: 1, batchSize);

        // By hand: each image whole at every scale, shorter side = s and longer = int(s * longer / shorter) as
        // torchvision's Resize(s) computes it (30x20 at 32: 48x32), and its mirror; softmax averaged over the 10 views.
        var average = zeros([MixedSizes.Length, 10], ScalarType.Float64);
        var labels = zeros([MixedSizes.Length], ScalarType.Int64);
        model.eval();
        for (var i = 0; i < MixedSizes.Length; i++)
        {
            var (w, h) = MixedSizes[i];
            foreach (var s in new[] { 32, 37, 55, 69, 91 })
            {
                var (vw, vh) = w <= h ? (s, (int)(s * (long)h / w)) : ((int)(s * (long)w / h), s);
                await using var loader = new DataLoader(images, new IdentityTransform(vw, vh), 1, seed: 1, _loader);
                await foreach (var batch in loader.ReadBatches(0, [[i]]))
                {
                    using var noGrad = no_grad();
                    var view = batch.ToDeviceNormalised(CPU, Normalisation.Cifar10);
                    Assert.Equal(new long[] { 1, 3, vh, vw }, view.shape);
                    foreach (var v in new[] { view, view.flip(3) })
                    {
                        average[i].add_(model.call(v)[0].to_type(ScalarType.Float64).softmax(0).div(10));
                    }

                    labels[i] = batch.Labels[0];
                }
            }
        }

        model.train();
        var expected = ClassificationCounts.FromProbabilities(average, labels);
        Assert.Equal(MixedSizes.Length, counts.Total);
        Assert.Equal(expected.Correct1, counts.Correct1);
        Assert.Equal(expected.Correct5, counts.Correct5);
        Assert.Equal(expected.LossSum, counts.LossSum, 1e-4); // batched forward passes round in float32 unlike one-image ones (a wrong view is off by far more)
    }

    [Theory]
    [InlineData(EvaluationMode.TenCrop)]
    [InlineData(EvaluationMode.MultiScale)]
    public void NoForwardPassHoldsMorePixelsThanBatchSizeCentreCrops(EvaluationMode mode)
    {
        // Ten-crop of CIFAR-sized images needs 32x32 sources; multi-scale takes any size.
        using var mixed = new RawImages(MixedSizes, seed: 5);
        IImageDataset images = mode == EvaluationMode.TenCrop ? _validation : mixed;
        using var model = new PixelRecorder(TinyNets.BatchNormFree(seed: 2));
        const int batchSize = 20;
        var counts = ValidationEvaluator.Evaluate(model, images, ValidationEvaluator.Passes(new IdentityTransform(32, 32), mode), Normalisation.Cifar10,
            CPU, 0, 1, batchSize, seed: 1, epoch: 0, _loader, CancellationToken.None);

        Assert.Equal(images.Count, counts.Total);
        Assert.InRange(model.MostPixels, 1, batchSize * 32 * 32);
        if (mode == EvaluationMode.MultiScale)
        {
            // A 91x136 view is more than half the budget of 20 centre crops: it goes through the network alone.
            Assert.Contains(model.Shapes, shape => shape[0] == 1 && shape[2] == 91 && shape[3] == 136);
        }
    }

    /// <summary>Passes every batch to the wrapped network and records its shape.</summary>
    private sealed class PixelRecorder(nn.Module<Tensor, Tensor> inner) : nn.Module<Tensor, Tensor>("pixel_recorder")
    {
        private readonly nn.Module<Tensor, Tensor> _inner = inner;

        public List<long[]> Shapes { get; } = [];

        public long MostPixels => Shapes.Max(s => s[0] * s[2] * s[3]);

        public override Tensor forward(Tensor input)
        {
            Shapes.Add(input.shape);
            return _inner.call(input);
        }
    }

    [Fact]
    public void MultiScaleCountsOfNonSquareImagesSumExactlyAcrossRanks()
    {
        using var images = new RawImages(MixedSizes, seed: 8);
        using var model = TinyNets.BatchNormFree(seed: 7);
        var alone = EvaluateMultiScale(model, images, 0, 1, batchSize: 20);
        Assert.Equal(MixedSizes.Length, alone.Total);
        for (var world = 2; world <= 3; world++)
        {
            var sum = ClassificationCounts.Sum([.. Enumerable.Range(0, world).Select(rank => EvaluateMultiScale(model, images, rank, world, batchSize: 20))]);
            Assert.Equal(MixedSizes.Length, sum.Total);
            Assert.Equal(alone.Correct1, sum.Correct1);
            Assert.Equal(alone.Correct5, sum.Correct5);
            Assert.Equal(alone.LossSum, sum.LossSum, 1e-4); // each rank batches its own share: float32 rounding differs
        }
    }

    /// <summary>Raw RGB images of the given sizes, random pixels and labels, held in memory.</summary>
    private sealed class RawImages : IImageDataset
    {
        private readonly (int Width, int Height)[] _sizes;
        private readonly byte[][] _pixels;
        private readonly int[] _labels;

        public RawImages((int Width, int Height)[] sizes, int seed)
        {
            var random = new Random(seed);
            _sizes = sizes;
            _pixels = [.. sizes.Select(s => { var p = new byte[s.Width * s.Height * 3]; random.NextBytes(p); return p; })];
            _labels = [.. sizes.Select(_ => random.Next(10))];
        }

        public string Format => "raw-test";

        public string Location => "memory";

        public int Count => _sizes.Length;

        public int NumClasses => 10;

        public IReadOnlyList<string> ClassNames { get; } = [.. Enumerable.Range(0, 10).Select(c => $"c{c}")];

        public int GetLabel(int index) => _labels[index];

        public string DescribeSample(int index) => $"raw#{index}";

        public ImageSample ReadSample(int index, SampleBuffer buffer) =>
            new(index, _labels[index], DescribeSample(index), SamplePayload.RawRgb, _pixels[index], _sizes[index].Width, _sizes[index].Height);

        public void Dispose()
        {
        }
    }

    [Fact]
    public void TenCropOfA500By375ImageTakesTorchvisionsCornersAndCentreAfterResizing256()
    {
        var transform = (TenCropTransform)Assert.Single(ValidationEvaluator.Passes(StandardTransforms.Eval(), EvaluationMode.TenCrop));
        var views = new CropPlan[10];
        var random = default(Plateau.Data.Randomness.CounterRandom);
        transform.Plan(500, 375, ref random, views);

        // Resized to 341x256 (torchvision: int(256 * 500 / 375)); crops of 224 at x ∈ {0, 117, round(58.5) = 58}, y ∈ {0, 32, 16}.
        var (sx, sy) = (500.0 / 341, 375.0 / 256);
        CropPlan At(int x, int y, bool flip) => new(x * sx, y * sy, 224 * sx, 224 * sy, flip);
        Assert.Equal(
            [At(0, 0, false), At(117, 0, false), At(0, 32, false), At(117, 32, false), At(58, 16, false),
             At(117, 0, true), At(0, 0, true), At(117, 32, true), At(0, 32, true), At(58, 16, true)],
            views);
    }

    [Fact]
    public void TenCropOfACifarImageTakesTheCornersOfItsFourPixelPaddingAndTheImageItself()
    {
        var transform = Assert.IsType<PaddedTenCropTransform>(Assert.Single(ValidationEvaluator.Passes(new IdentityTransform(32, 32), EvaluationMode.TenCrop)));
        var views = new CropPlan[10];
        var random = default(Plateau.Data.Randomness.CounterRandom);
        transform.Plan(32, 32, ref random, views);

        CropPlan At(int x, int y, bool flip) => new(x, y, 32, 32, flip);
        Assert.Equal(
            [At(-4, -4, false), At(4, -4, false), At(-4, 4, false), At(4, 4, false), At(0, 0, false),
             At(4, -4, true), At(-4, -4, true), At(4, 4, true), At(-4, 4, true), At(0, 0, true)],
            views);
    }

    [Fact]
    public void MultiScaleUsesThePapersScalesAt224AndScalesThemToTheEvalCrop()
    {
        static int[] Sides(ISampleTransform centre) =>
            [.. ValidationEvaluator.Passes(centre, EvaluationMode.MultiScale).Cast<ResizeCenterCropTransform>().Select(t => t.CropSize)];

        Assert.Equal([224, 256, 384, 480, 640], Sides(StandardTransforms.Eval()));
        Assert.Equal([32, 37, 55, 69, 91], Sides(new IdentityTransform(32, 32)));
        Assert.Equal([64, 73, 110, 137, 183], Sides(new IdentityTransform(64, 64)));
        Assert.All(ValidationEvaluator.Passes(StandardTransforms.Eval(), EvaluationMode.MultiScale), t => Assert.Equal(2, t.Views));
    }

    [Theory]
    [InlineData("resnet20_cifar", new[] { 32, 37, 55, 69, 91 })]
    [InlineData("se_resnet20_cifar", new[] { 37, 91 })]
    [InlineData("resnet18", new[] { 97, 130 })]
    public void TheNetworksEndInGlobalAveragePoolingSoEveryTestScaleGivesOneScorePerClass(string name, int[] sides)
    {
        using var model = ModelRegistry.Create(name, new Plateau.Models.Architecture.ModelOptions { NumClasses = 10 });
        model.eval();
        using var noGrad = no_grad();
        foreach (var side in sides)
        {
            using var output = model.call(randn([2, 3, side, side]));
            Assert.Equal(new long[] { 2, 10 }, output.shape);
        }
    }
}
