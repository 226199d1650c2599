"""Train the conditional-VAE question's judge once and store it: ``python scripts/train_judge.py``.

Multinomial logistic regression on the 8x8 digits (70% train, stratified, seed 0); prints and stores
its accuracy on the held-out 30%. See :mod:`course.checks.judge`.
"""
import json

from sklearn.linear_model import LogisticRegression

from bdl_tf.datasets import digits
from course.checks.judge import JUDGE_PATH

split = digits(test_fraction=0.3, seed=0)
model = LogisticRegression(C=1.0, max_iter=5000).fit(split.x_train, split.y_train)
accuracy = float(model.score(split.x_test, split.y_test))
JUDGE_PATH.write_text(json.dumps({
    "weights": model.coef_.T.round(8).tolist(), "bias": model.intercept_.round(8).tolist(),
    "test_accuracy": round(accuracy, 4), "trained_on": "sklearn digits, 70% stratified split, seed 0",
}) + "\n", encoding="utf-8")
print(f"judge: held-out accuracy {accuracy:.4f} on {len(split.y_test)} digits -> {JUDGE_PATH}")
