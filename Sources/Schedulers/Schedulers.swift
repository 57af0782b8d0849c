// Schedulers module.
