// Exit policies and counterfactual evaluation.
