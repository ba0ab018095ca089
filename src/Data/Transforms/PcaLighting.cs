using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// AlexNet's "fancy PCA" colour augmentation, as in fb.resnet.torch (which the ResNet paper's recipe follows): an RGB
/// offset <c>eigvec · (alpha ⊙ eigval)</c> with <c>alpha ~ N(0, std²)</c>, added to every pixel on the [0, 1] scale.
/// </summary>
public static class PcaLighting
{
    public static readonly float[] EigenValues = [0.2175f, 0.0188f, 0.0045f];

    public static readonly float[,] EigenVectors =
    {
        { -0.5675f, 0.7192f, 0.4009f },
        { -0.5808f, -0.0045f, -0.8140f },
        { -0.5836f, -0.6948f, 0.4203f },
    };

    /// <summary>Draws the sample's RGB offset (3 values) from its random stream.</summary>
    public static void Draw(double std, ref CounterRandom random, Span<float> rgbOffset)
    {
        if (std <= 0)
        {
            rgbOffset[..3].Clear();
            return;
        }
        Span<double> alpha = stackalloc double[3];
        for (var j = 0; j < 3; j++)
        {
            alpha[j] = random.NextGaussian() * std * EigenValues[j];
        }
        for (var c = 0; c < 3; c++)
        {
            rgbOffset[c] = (float)((EigenVectors[c, 0] * alpha[0]) + (EigenVectors[c, 1] * alpha[1]) + (EigenVectors[c, 2] * alpha[2]));
        }
    }
}
